// Face detection time on a 640×480 frame with default options (scaleFactor 1.1, minNeighbors 3,
// minSize 30): the median of several runs after a warm-up.
//   node --import ./src/cli/register.mjs bench/detect.ts [photo] [cascade.xml] [runs]
// The frame is the photo scaled to 480 rows, centred, and padded to 640 columns by mirroring its
// edges, so the padding has texture like a real scene rather than flat grey the detector skips.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CASCADE, loadCascadeFile } from '../src/detect/cascade-file.ts';
import { detectFaces } from '../src/detect/detect.ts';
import { decodeImage } from '../src/image/decode.ts';
import { grayImage, resize, toGray, type GrayImage } from '../src/image/image.ts';

const photo = process.argv[2] ?? join(process.env.FER_PHOTOS_DIR ?? '/work/shared/photos', 'astronaut.png');
const cascadePath = process.argv[3] ?? DEFAULT_CASCADE;
const runs = Number(process.argv[4] ?? 15);
if (!existsSync(photo)) {
  console.error(`bench/detect: photo ${photo} not found (set FER_PHOTOS_DIR or pass a path)`);
  process.exit(1);
}

function frame640x480(img: GrayImage): GrayImage {
  const w = Math.round((img.width * 480) / img.height);
  const scaled = resize(img, Math.min(w, 640), 480);
  const out = grayImage(640, 480);
  const left = Math.floor((640 - scaled.width) / 2);
  for (let y = 0; y < 480; y++) {
    for (let x = 0; x < 640; x++) {
      // Mirror at the edges of the scaled photo (reflect-101 style).
      let sx = x - left;
      while (sx < 0 || sx >= scaled.width) sx = sx < 0 ? -sx : 2 * (scaled.width - 1) - sx;
      out.data[y * 640 + x] = scaled.data[y * scaled.width + sx];
    }
  }
  return out;
}

const cascade = loadCascadeFile(cascadePath);
const img = frame640x480(toGray(decodeImage(new Uint8Array(readFileSync(photo)), photo)));
detectFaces(img, cascade);
const times: number[] = [];
let faces = detectFaces(img, cascade);
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  faces = detectFaces(img, cascade);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`cascade: ${cascadePath}`);
console.log(`frame: 640×480 from ${photo}; faces: ${faces.map((b) => `${b.x},${b.y} ${b.width}×${b.height} (${b.neighbors})`).join('; ') || 'none'}`);
console.log(`detectFaces 640×480, default options: median ${median.toFixed(1)} ms over ${runs} runs (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)})`);
