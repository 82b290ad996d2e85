import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FerError } from '../backend/errors.ts';
import { decodeImage } from '../image/decode.ts';
import { resize, toGray } from '../image/image.ts';
import { DatasetBuilder } from './dataset-builder.ts';
import { IMAGE_SIZE, type Dataset, type Usage } from './dataset.ts';
import { EMOTIONS, emotionIndex } from './emotions.ts';
import { checkLoadOptions, type LoadOptions, type LoadResult } from './fer2013-csv.ts';
import { SkipLog } from './skipped.ts';

/** The folder layout FER2013 is often downloaded in: train/ is the Training split, test/ PublicTest. */
const SPLIT_FOLDERS: ReadonlyArray<readonly [string, Usage]> = [
  ['train', 'Training'],
  ['test', 'PublicTest'],
];
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);
const READ_AHEAD = 64;

interface Candidate {
  path: string;
  label: number;
}

/**
 * Loads `<root>/train/<class>/*.{jpg,jpeg,png}` as Training and `<root>/test/<class>/*` as
 * PublicTest, class folders named as EMOTIONS (any case). Every image, of any size or colour,
 * becomes 48×48 gray: BT.601 luma, then area resampling. Files are taken in name order,
 * alternating between classes, so a `limit` keeps the classes mixed. Other entries at the root
 * are not looked at; hidden files (".…") are ignored; anything else unexpected inside train/ or
 * test/ (an unknown class folder, a non-image file, an unreadable image) is a bad input: an
 * error naming it, or with skipBad a tallied skip.
 */
export async function loadImageFolder(root: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const keep = checkLoadOptions('loadImageFolder', opts);
  const limit = opts.limit ?? Infinity;
  const log = new SkipLog(opts.skipBad ?? false);
  const top = await listFolder(root, true);
  const found = SPLIT_FOLDERS.filter(([dir]) => top.some((e) => e.isDirectory() && e.name.toLowerCase() === dir));
  if (found.length === 0) throw new FerError(`${root}: no train/ or test/ folder, want <root>/train/<class>/*.jpg and <root>/test/<class>/*.jpg`);

  const work: Array<{ usage: Usage; files: Candidate[] }> = [];
  for (const [dir, usage] of found) {
    if (!keep.has(usage)) continue;
    const name = top.find((e) => e.isDirectory() && e.name.toLowerCase() === dir)!.name;
    work.push({ usage, files: await listSplit(join(root, name), log) });
  }

  const total = work.reduce((s, w) => s + Math.min(w.files.length, limit), 0);
  const splits: Partial<Record<Usage, Dataset>> = {};
  let done = 0;
  let kept = 0;
  for (const { usage, files } of work) {
    const builder = new DatasetBuilder();
    for (let start = 0; start < files.length && builder.count < limit; start += READ_AHEAD) {
      const batch = files.slice(start, start + READ_AHEAD);
      const bytes = await Promise.all(batch.map((f) => readFile(f.path).catch((e: Error) => e)));
      for (let i = 0; i < batch.length && builder.count < limit; i++) {
        const pixels = toFace(batch[i].path, bytes[i], log);
        if (pixels) {
          builder.add(pixels, batch[i].label);
          kept++;
        }
        done++;
      }
      opts.onProgress?.(Math.min(done / Math.max(total, 1), 1), kept);
    }
    if (builder.count > 0) splits[usage] = builder.finish();
  }
  opts.onProgress?.(1, kept);
  return { splits, skipped: log.skipped };
}

/** The 48×48 gray pixels of one file, or null after reporting it as bad. */
function toFace(path: string, bytes: Buffer | Error, log: SkipLog): Uint8Array | null {
  if (bytes instanceof Error) {
    log.bad(path, 'unreadable image', bytes.message);
    return null;
  }
  let gray;
  try {
    gray = toGray(decodeImage(bytes, path));
  } catch (e) {
    if (!(e instanceof FerError)) throw e;
    log.bad(path, 'unreadable image', e.message.startsWith(`${path}: `) ? e.message.slice(path.length + 2) : e.message);
    return null;
  }
  const face = gray.width === IMAGE_SIZE && gray.height === IMAGE_SIZE ? gray : resize(gray, IMAGE_SIZE, IMAGE_SIZE);
  return face.data instanceof Uint8Array ? face.data : Uint8Array.from(face.data);
}

/** The images of one split folder, interleaved across classes; reports everything else in it. */
async function listSplit(dir: string, log: SkipLog): Promise<Candidate[]> {
  const perClass: Candidate[][] = EMOTIONS.map(() => []);
  for (const entry of await listFolder(dir, false)) {
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) {
      log.bad(path, 'image outside a class folder', `want ${dir}/<class>/*.jpg`);
      continue;
    }
    const label = emotionIndex(entry.name);
    for (const file of await listFolder(path, false)) {
      const filePath = join(path, file.name);
      if (label < 0) log.bad(filePath, 'unknown class folder', `${JSON.stringify(entry.name)}, want one of ${EMOTIONS.join(', ')}`);
      else if (file.isDirectory()) log.bad(filePath, 'unexpected folder', 'a class folder holds image files only');
      else if (!IMAGE_EXTENSIONS.has(extname(file.name).toLowerCase())) log.bad(filePath, 'not an image file', 'want .jpg, .jpeg or .png');
      else perClass[label].push({ path: filePath, label });
    }
  }
  const out: Candidate[] = [];
  const longest = Math.max(...perClass.map((c) => c.length));
  for (let i = 0; i < longest; i++) for (const c of perClass) if (i < c.length) out.push(c[i]);
  return out;
}

interface Entry {
  name: string;
  isDirectory(): boolean;
}

/**
 * Non-hidden entries in name order, symbolic links resolved (data sets are often linked in);
 * a one-line error for a folder that is not there.
 */
async function listFolder(dir: string, isRoot: boolean): Promise<Entry[]> {
  if (isRoot) {
    const st = await stat(dir).catch(() => null);
    if (st === null) throw new FerError(`${dir}: no such folder`);
    if (!st.isDirectory()) throw new FerError(`${dir}: not a folder, want <root>/train/<class>/*.jpg`);
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new FerError(`${dir}: cannot list the folder (${(e as Error).message})`);
  }
  const out: Entry[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (!e.isSymbolicLink()) out.push(e);
    else {
      const target = await stat(join(dir, e.name)).catch(() => null);
      out.push({ name: e.name, isDirectory: () => target?.isDirectory() ?? false });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
