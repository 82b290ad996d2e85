import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { DEFAULT_CASCADE, loadCascadeFile } from '../../src/detect/cascade-file.ts';
import { parseCascade, type Cascade } from '../../src/detect/cascade.ts';
import { detectCandidates, detectFaces, pyramidScales } from '../../src/detect/detect.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { crop, grayImage, toGray, type GrayImage } from '../../src/image/image.ts';
import { rng, TEST_SEED } from '../support/random.ts';
import { requirement } from '../support/requires.ts';

const PHOTOS = process.env.FER_PHOTOS_DIR ?? '../shared/photos';
const HAVE_CASCADE = requirement(`the face cascade ${DEFAULT_CASCADE}`, existsSync(DEFAULT_CASCADE), 'apt-get install opencv-data');
const HAVE_PHOTOS = requirement(
  `astronaut.png and messi5.jpg in ${PHOTOS}`,
  existsSync(join(PHOTOS, 'astronaut.png')) && existsSync(join(PHOTOS, 'messi5.jpg')),
  'set FER_PHOTOS_DIR',
);

const cascade: Cascade | null = HAVE_CASCADE ? loadCascadeFile(DEFAULT_CASCADE) : null;
const photo = (name: string): GrayImage => toGray(decodeImage(new Uint8Array(readFileSync(join(PHOTOS, name))), name));
const plain = (boxes: { x: number; y: number; width: number; height: number; neighbors: number }[]) => boxes.map((b) => [b.x, b.y, b.width, b.height, b.neighbors]);

describe.skipIf(!HAVE_CASCADE || !HAVE_PHOTOS)('detectFaces on photos', () => {
  it('finds exactly one face in astronaut.png, where OpenCV finds it', () => {
    const boxes = detectFaces(photo('astronaut.png'), cascade!);
    expect(boxes).toHaveLength(1);
    const [b] = boxes;
    expect(b.x).toBeGreaterThanOrEqual(165);
    expect(b.y).toBeGreaterThanOrEqual(50);
    expect(b.x + b.width).toBeLessThanOrEqual(285);
    expect(b.y + b.height).toBeLessThanOrEqual(190);
    // OpenCV 4.14's detectMultiScale2 on the same gray image (scaleFactor 1.1, minNeighbors 3, minSize 30×30).
    expect(plain(boxes)).toEqual([[177, 66, 95, 95, 40]]);
  });

  it("matches OpenCV on messi5.jpg (a small turned face), raw windows included", () => {
    const img = photo('messi5.jpg');
    // OpenCV 4.14 gives [226,94,38,38]×13 and [244,64,81,81]×4 from 19 raw windows; the first
    // overlaps the face at x 205–265, y 65–125 low and right, the second is a false positive.
    expect(plain(detectFaces(img, cascade!))).toEqual([
      [244, 64, 81, 81, 4],
      [226, 94, 38, 38, 13],
    ]);
    expect(detectCandidates(img, cascade!, 1.1, 30)).toHaveLength(19);
  });

  it.skipIf(!existsSync(join(DEFAULT_CASCADE, '../haarcascade_eye_tree_eyeglasses.xml')))('matches OpenCV with a tree cascade that has tilted features', () => {
    const eyes = loadCascadeFile(join(DEFAULT_CASCADE, '../haarcascade_eye_tree_eyeglasses.xml'));
    const img = photo('astronaut.png');
    // OpenCV 4.14: 56 raw windows and these two eyes (scaleFactor 1.1, minSize 0).
    expect(detectCandidates(img, eyes, 1.1, 0)).toHaveLength(56);
    expect(plain(detectFaces(img, eyes, { minSize: 0 })).sort((a, b) => a[0] - b[0])).toEqual([
      [191, 89, 24, 24, 26],
      [233, 89, 29, 29, 28],
    ]);
  });

  it('finds no face in a crop of astronaut.png away from the face', () => {
    expect(detectFaces(crop(photo('astronaut.png'), 0, 200, 512, 312), cascade!)).toEqual([]);
  });

  it('maxSize and minSize bound the box size', () => {
    const img = photo('astronaut.png');
    // The face is found at whichever window sizes remain allowed (95 px by default).
    const small = detectFaces(img, cascade!, { maxSize: 80 });
    expect(small).toHaveLength(1);
    expect(small[0].width).toBeLessThanOrEqual(80);
    const large = detectFaces(img, cascade!, { minSize: 100 });
    expect(large).toHaveLength(1);
    expect(large[0].width).toBeGreaterThanOrEqual(100);
  });
});

describe.skipIf(!HAVE_CASCADE)('detectFaces without faces, options, errors', () => {
  it('finds nothing in a flat gray image', () => {
    expect(detectFaces(grayImage(200, 150, new Uint8Array(200 * 150).fill(128)), cascade!)).toEqual([]);
  });

  it('finds nothing in random noise', () => {
    const next = rng(TEST_SEED);
    const img = grayImage(160, 120, Uint8Array.from({ length: 160 * 120 }, () => Math.floor(next() * 256)));
    expect(detectFaces(img, cascade!)).toEqual([]);
  });

  it('finds nothing in a smooth gradient', () => {
    const img = grayImage(200, 150, Uint8Array.from({ length: 200 * 150 }, (_, i) => Math.round(((i % 200) + Math.floor(i / 200)) * (255 / 348))));
    expect(detectFaces(img, cascade!)).toEqual([]);
  });

  it('returns nothing for an image smaller than the window', () => {
    expect(detectFaces(grayImage(20, 40, new Uint8Array(800).fill(9)), cascade!, { minSize: 0 })).toEqual([]);
  });

  it('builds the pyramid like OpenCV: window sizes in [minSize, maxSize] within the image', () => {
    const sizes = (w: number, h: number, min: number, max: number) => pyramidScales({ width: w, height: h }, cascade!, 1.1, min, max).map((s) => Math.round(24 * s));
    // 24·1.1^k rounded: 24 26 29 32 35 39 43 47 51 57 62 68 75 83 92 …
    expect(sizes(100, 60, 30, 0)).toEqual([32, 35, 39, 43, 47, 51, 57]);
    expect(sizes(640, 480, 0, 40)).toEqual([24, 26, 29, 32, 35, 39]);
    expect(sizes(23, 100, 0, 0)).toEqual([]);
  });

  it('rejects bad options and images with one-line errors', () => {
    const img = grayImage(40, 40);
    const msg = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(FerError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg(() => detectFaces(img, cascade!, { scaleFactor: 1 }))).toBe('detectFaces: scaleFactor must be a number > 1, got 1');
    expect(msg(() => detectFaces(img, cascade!, { minNeighbors: -1 }))).toBe('detectFaces: minNeighbors must be an integer ≥ 0, got -1');
    expect(msg(() => detectFaces(img, cascade!, { minSize: 2.5 }))).toBe('detectFaces: minSize must be an integer ≥ 0, got 2.5');
    expect(msg(() => detectFaces({ width: 4, height: 4, channels: 4, data: new Uint8Array(64) } as unknown as GrayImage, cascade!))).toBe(
      'detectFaces: img must be a gray image (1 channel, 4×4 bytes), got 4 channels and 64 bytes',
    );
    expect(msg(() => detectFaces(img, { ...cascade!, stages: [] }))).toBe('detectFaces: cascade has no stages, wanted one from parseCascade');
  });
});

describe('detectFaces with a hand-made cascade', () => {
  // One stump on "left half darker than right half" that every textured window passes.
  const xml = `<opencv_storage><cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType><featureType>HAAR</featureType>
    <height>8</height><width>8</width><featureParams><maxCatCount>0</maxCatCount></featureParams>
    <stages><_><stageThreshold>0</stageThreshold><weakClassifiers><_><internalNodes>0 -1 0 -1e30</internalNodes><leafValues>-1 1</leafValues></_></weakClassifiers></_></stages>
    <features><_><rects><_>0 0 4 8 -1.</_><_>4 0 4 8 1.</_></rects></_></features></cascade></opencv_storage>`;
  const always = parseCascade(xml, 'always.xml');

  it('scans every second position below scale 2 and maps windows back to image coordinates', () => {
    const next = rng(TEST_SEED + 5);
    const img = grayImage(12, 10, Uint8Array.from({ length: 120 }, () => Math.floor(next() * 256)));
    // Scale 1 only (maxSize 8): positions x ∈ {0,2,4}, y ∈ {0,2}, each window passes unless flat.
    const raw = detectCandidates(img, always, 1.5, 0, 8);
    expect(raw.map((r) => [r.x, r.y, r.width])).toEqual([0, 2].flatMap((y) => [0, 2, 4].map((x) => [x, y, 8])));
    // minNeighbors 0: raw windows, one neighbour each.
    expect(detectFaces(img, always, { scaleFactor: 1.5, minNeighbors: 0, minSize: 0, maxSize: 8 })).toHaveLength(6);
  });
});
