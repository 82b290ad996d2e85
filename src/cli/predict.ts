import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { FerError } from '../backend/errors.ts';
import { annotateFaces } from '../detect/annotate.ts';
import { DEFAULT_CASCADE, loadCascadeFile } from '../detect/cascade-file.ts';
import { recognizeFaces, type FaceEmotion } from '../detect/recognize.ts';
import { decodeImage, encodePng } from '../image/decode.ts';
import { toGray } from '../image/image.ts';
import { chooseBackend } from './backend-choice.ts';
import { loadModelFile } from './model-source.ts';
import { foldForInference } from '../nn/fold.ts';
import { fer2013Caveat } from '../nn/training-caveat.ts';
import { bar, ProgressLine } from './progress.ts';

export const PREDICT_HELP = `fer predict <image|folder> [options]

Finds the faces in PNG or JPEG photos (OpenCV's Haar cascade, evaluated by our own code) and
gives each face's seven emotion probabilities.

  --model FILE|RUN        model file or run folder (default: the shipped models/fer.safetensors)
  --backend webgpu|cpu    (default: webgpu, falling back to cpu)
  --json                  print only JSON on stdout
  --annotate PATH         write the photo with boxes and labels (a .png file; a folder for a folder of photos)
  --flip                  average each face's probabilities with its mirror image's (test-time augmentation)
  --no-detect             take the whole image as one face (for 48×48 crops)
  --no-fold               run the layers as trained (default: each batch norm folded into the conv/dense before it)
  --cascade PATH          cascade XML (default ${DEFAULT_CASCADE})
  --scale-factor X        detector pyramid step (default 1.1)
  --min-neighbors N       detector votes a face needs (default 3)
  --min-size N            smallest face in pixels (default 30)`;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

interface FileResult {
  file: string;
  width?: number;
  height?: number;
  faces?: FaceEmotion[];
  detectMs?: number;
  classifyMs?: number;
  error?: string;
}

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && IMAGE_EXT.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(dir, f));
}

export async function predictCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      annotate: { type: 'string' },
      flip: { type: 'boolean' },
      'no-detect': { type: 'boolean' },
      'no-fold': { type: 'boolean' },
      cascade: { type: 'string' },
      'scale-factor': { type: 'string' },
      'min-neighbors': { type: 'string' },
      'min-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(PREDICT_HELP);
  if (positionals.length !== 1) throw new FerError('predict needs one image or folder (fer predict --help)');
  const target = positionals[0];
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw new FerError(`${target}: no such file or folder`);
  }
  const files = stat.isDirectory() ? listImages(target) : [target];
  if (files.length === 0) throw new FerError(`${target}: no .png, .jpg or .jpeg files in this folder`);

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const loaded = loadModelFile(v.model, backend);
  const { metadata, path } = loaded;
  const model = v['no-fold'] ? loaded.model : await foldForInference(loaded.model);
  const caveat = fer2013Caveat(metadata, path);
  if (caveat) say(caveat);
  const cascade = v['no-detect'] ? null : loadCascadeFile(v.cascade ?? DEFAULT_CASCADE);
  const numberOpt = (name: string, def: number, ok: (x: number) => boolean) => {
    const s = v[name as keyof typeof v] as string | undefined;
    if (s === undefined) return def;
    const x = Number(s);
    if (!Number.isFinite(x) || !ok(x)) throw new FerError(`--${name}: bad value "${s}"`);
    return x;
  };
  const detect = {
    scaleFactor: numberOpt('scale-factor', 1.1, (x) => x > 1),
    minNeighbors: numberOpt('min-neighbors', 3, (x) => Number.isInteger(x) && x >= 0),
    minSize: numberOpt('min-size', 30, (x) => Number.isInteger(x) && x >= 0),
  };
  const annotateDir = v.annotate && files.length > 1 ? v.annotate : null;
  if (annotateDir) mkdirSync(annotateDir, { recursive: true });

  const progress = new ProgressLine();
  const results: FileResult[] = [];
  for (const [i, file] of files.entries()) {
    if (files.length > 1) progress.update(`predict ${bar(i / files.length)} ${i}/${files.length} ${basename(file)}`);
    try {
      const photo = decodeImage(new Uint8Array(readFileSync(file)), file);
      const gray = toGray(photo);
      const { faces: found, detectMs, classifyMs } = await recognizeFaces(model, gray, { cascade, detect, flip: Boolean(v.flip) });
      results.push({ file, width: photo.width, height: photo.height, faces: found, detectMs, classifyMs });
      if (v.annotate) {
        const out = annotateDir ? join(annotateDir, `${basename(file, extname(file))}.png`) : v.annotate;
        writeFileSync(out, encodePng(annotateFaces(photo, found, model.classes)));
      }
    } catch (e) {
      if (!(e instanceof FerError) && !(e as NodeJS.ErrnoException).code) throw e;
      results.push({ file, error: (e as Error).message });
    }
  }
  if (files.length > 1) progress.done(`predicted ${files.length} files`);

  const failed = results.filter((r) => r.error);
  if (v.json) {
    const round = (x: number) => Math.round(x * 1e6) / 1e6;
    const json = {
      model: { path, classes: model.classes, data: metadata.data ?? null, backend, warning: caveat },
      results: results.map((r) =>
        r.error
          ? { file: r.file, error: r.error }
          : {
              file: r.file,
              width: r.width,
              height: r.height,
              detectMs: round(r.detectMs!),
              classifyMs: round(r.classifyMs!),
              faces: r.faces!.map((f) => ({ ...f, probabilities: f.probabilities.map(round), confidence: round(f.confidence) })),
            },
      ),
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    for (const r of results) {
      if (r.error) {
        console.log(`error: ${r.error.includes(r.file) ? r.error : `${r.file}: ${r.error}`}`);
        continue;
      }
      const faces = r.faces!;
      const timing = `detect ${r.detectMs!.toFixed(0)} ms, classify ${r.classifyMs!.toFixed(1)} ms`;
      console.log(`${r.file}: ${faces.length === 0 ? 'no face found' : `${faces.length} face${faces.length > 1 ? 's' : ''}`} (${timing})`);
      for (const [i, f] of faces.entries()) {
        const ranked = f.probabilities
          .map((p, c) => [model.classes[c], p] as const)
          .sort((a, b) => b[1] - a[1])
          .map(([c, p]) => `${c} ${(100 * p).toFixed(1)}%`);
        console.log(`  face ${i + 1} at x ${f.box.x}, y ${f.box.y}, ${f.box.width}×${f.box.height}: ${ranked[0]}  (${ranked.slice(1).join(', ')})`);
      }
    }
  }
  for (const r of failed) if (v.json) say(`${r.file}: ${r.error}`);
  if (failed.length > 0) {
    say(`${failed.length} of ${files.length} file${files.length > 1 ? 's' : ''} could not be read`);
    process.exitCode = 1;
  }
}
