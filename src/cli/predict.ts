import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { FerError } from '../backend/errors.ts';
import { annotateFaces } from '../detect/annotate.ts';
import { DEFAULT_CASCADE, loadCascadeFile } from '../detect/cascade-file.ts';
import { recognizeFaces, type FaceEmotion, type RecognizeOptions } from '../detect/recognize.ts';
import { decodeImage, encodeJpeg, encodePng } from '../image/decode.ts';
import type { Image } from '../image/image.ts';
import { toGray } from '../image/image.ts';
import type { Sequential } from '../nn/sequential.ts';
import { BACKEND_FLAG, chooseBackend } from './backend-choice.ts';
import { defineCommand, parseFlags } from './flags.ts';
import { openModelFile } from './model-source.ts';
import { checkTestTime, chooseTestTime, TEST_TIME_MODES } from '../nn/test-time.ts';
import { bar, ProgressLine } from './progress.ts';

export const PREDICT = defineCommand({
  usage: 'fer predict <image|folder> [options]',
  about: `Finds the faces in PNG or JPEG photos (OpenCV's Haar cascade, evaluated by our own code) and
gives each face's seven emotion probabilities. Results go to stdout; messages and bad images
to stderr.`,
  positionals: { min: 1, max: 1, what: 'one image or folder' },
  flags: {
    model: { kind: 'path', arg: 'FILE|RUN', help: 'model file or run folder (default: the shipped models/fer.safetensors)' },
    backend: BACKEND_FLAG,
    json: { kind: 'bool', help: 'print only JSON on stdout' },
    annotate: {
      kind: 'path',
      help: 'write the photo with boxes and labels: a .png or .jpg file (the format follows the\nextension); a folder (PNGs) for a folder of photos',
    },
    flip: { kind: 'bool', help: "average each face's probabilities with its mirror image's (test-time augmentation; = --tta flip)" },
    tta: {
      kind: 'choice',
      choices: TEST_TIME_MODES,
      help: 'test-time averaging: none, flip, ten-crop (4 corners + centre and mirrors, for models of crops); default: what the model file records',
    },
    'skip-bad': { kind: 'bool', help: 'skip unreadable images (each named on stderr) instead of stopping at the first' },
    'no-detect': { kind: 'bool', help: 'take the whole image as one face (for 48×48 crops)' },
    'no-fold': { kind: 'bool', help: 'run the layers as trained (default: each batch norm folded into the conv/dense before it)' },
    cascade: { kind: 'path', help: `cascade XML (default ${DEFAULT_CASCADE})` },
    'scale-factor': { kind: 'number', min: 1, open: 'min', default: 1.1, help: 'detector pyramid step' },
    'min-neighbors': { kind: 'int', min: 0, default: 3, help: 'detector votes a face needs' },
    'min-size': { kind: 'int', min: 0, default: 30, help: 'smallest face in pixels' },
  },
});

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);
/** A photo no bigger than this with no face found is likely a crop: say that --no-detect exists. */
const CROP_HINT_SIZE = 96;

interface FileResult {
  file: string;
  width?: number;
  height?: number;
  faces?: FaceEmotion[];
  detectMs?: number;
  classifyMs?: number;
  error?: string;
}

function listImages(target: string): string[] {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw new FerError(`${target}: no such file or folder`);
  }
  if (!stat.isDirectory()) return [target];
  const files = readdirSync(target)
    .filter((f) => !f.startsWith('.') && IMAGE_EXT.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(target, f));
  if (files.length === 0) throw new FerError(`${target}: no .png, .jpg or .jpeg files in this folder`);
  return files;
}

/** Checks --annotate before any work: a folder for many photos, else a .png/.jpg file in a folder that exists. */
export function annotateTarget(path: string | undefined, many: boolean): ((photo: string) => string) | null {
  if (path === undefined) return null;
  if (many) {
    try {
      mkdirSync(path, { recursive: true });
    } catch (e) {
      throw new FerError(`--annotate ${path}: cannot create this folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return (photo) => join(path, `${basename(photo, extname(photo))}.png`);
  }
  if (!IMAGE_EXT.has(extname(path).toLowerCase())) throw new FerError(`--annotate ${path}: want a file name ending in .png, .jpg or .jpeg`);
  if (!existsSync(dirname(path))) throw new FerError(`--annotate ${path}: folder ${dirname(path)} does not exist`);
  return () => path;
}

/** Writes PNG or JPEG by the extension; a failed write is the user's to fix, so one line, not a stack. */
export function writeAnnotated(out: string, image: Image): void {
  const ext = extname(out).toLowerCase();
  try {
    writeFileSync(out, ext === '.jpg' || ext === '.jpeg' ? encodeJpeg(image) : encodePng(image));
  } catch (e) {
    throw new FerError(`cannot write ${out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A bad image's message, naming the file once. */
const badImage = (file: string, e: unknown) => {
  const m = (e as Error).message;
  if (e instanceof FerError) return m.startsWith(`${file}:`) ? m : `${file}: ${m}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code) return `${file}: cannot read (${code})`;
  throw e;
};

async function predictFile(file: string, model: Sequential, opts: RecognizeOptions, annotate: ((p: string) => string) | null): Promise<FileResult> {
  let photo: Image;
  try {
    photo = decodeImage(new Uint8Array(readFileSync(file)), file);
  } catch (e) {
    return { file, error: badImage(file, e) };
  }
  const { faces, detectMs, classifyMs } = await recognizeFaces(model, toGray(photo), opts);
  if (annotate) writeAnnotated(annotate(file), annotateFaces(photo, faces, model.classes));
  return { file, width: photo.width, height: photo.height, faces, detectMs, classifyMs };
}

function printText(results: FileResult[], classes: readonly string[]): void {
  for (const r of results) {
    if (r.error) continue;
    const faces = r.faces!;
    const timing = `detect ${r.detectMs!.toFixed(0)} ms, classify ${r.classifyMs!.toFixed(1)} ms`;
    console.log(`${r.file}: ${faces.length === 0 ? 'no face found' : `${faces.length} face${faces.length > 1 ? 's' : ''}`} (${timing})`);
    for (const [i, f] of faces.entries()) {
      const ranked = f.probabilities
        .map((p, c) => [classes[c], p] as const)
        .sort((a, b) => b[1] - a[1])
        .map(([c, p]) => `${c} ${(100 * p).toFixed(1)}%`);
      console.log(`  face ${i + 1} at x ${f.box.x}, y ${f.box.y}, ${f.box.width}×${f.box.height}: ${ranked[0]}  (${ranked.slice(1).join(', ')})`);
    }
  }
}

function jsonResult(r: FileResult) {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  if (r.error) return { file: r.file, error: r.error };
  const faces = r.faces!.map((f) => ({ ...f, probabilities: f.probabilities.map(round), confidence: round(f.confidence) }));
  return { file: r.file, width: r.width, height: r.height, detectMs: round(r.detectMs!), classifyMs: round(r.classifyMs!), faces };
}

export async function predictCommand(argv: string[]): Promise<void> {
  const args = parseFlags(PREDICT, argv);
  if (!args) return;
  const v = args.values;
  const files = listImages(args.positionals[0]);
  const annotate = annotateTarget(v.annotate, files.length > 1);

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const { inference: model, metadata, path, caveat } = await openModelFile(v.model, backend, !v['no-fold']);
  if (caveat) say(caveat);
  const detect = { scaleFactor: v['scale-factor'], minNeighbors: v['min-neighbors'], minSize: v['min-size'] };
  const testTime = chooseTestTime(metadata, v.tta, v.flip);
  checkTestTime(testTime, model.inputShape[model.inputShape.length - 1]);
  const opts = { cascade: v['no-detect'] ? null : loadCascadeFile(v.cascade ?? DEFAULT_CASCADE), detect, testTime };

  const progress = new ProgressLine();
  const results: FileResult[] = [];
  for (const [i, file] of files.entries()) {
    if (files.length > 1) progress.update(`predict ${bar(i / files.length)} ${i}/${files.length} ${basename(file)}`);
    const r = await predictFile(file, model, opts, annotate);
    if (r.error && !v['skip-bad']) throw new FerError(`${r.error}${files.length > 1 ? ' (--skip-bad skips bad images)' : ''}`);
    if (r.error) progress.done(`skipped ${r.error}`);
    results.push(r);
  }
  if (files.length > 1) progress.done(`predicted ${files.length} files`);

  if (v.json) {
    const json = { model: { path, classes: model.classes, data: metadata.data ?? null, backend, warning: caveat }, results: results.map(jsonResult) };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else printText(results, model.classes);
  const skipped = results.filter((r) => r.error).length;
  if (skipped > 0) say(`skipped ${skipped} of ${files.length} images (named above)`);
  const crop = results.some((r) => r.faces?.length === 0 && Math.max(r.width!, r.height!) <= CROP_HINT_SIZE);
  if (crop && opts.cascade) say(`hint: no face found in a small image; for a face crop (such as FER2013's 48×48), --no-detect classifies the whole image`);
}
