// FER2013 from the user's disk, in the Train tab's worker: the CSV (plain or .gz) streamed
// through the same parser `fer train` uses, or an image folder laid out as `fer train --data`
// takes it (train/<class>/*, test/<class>/*), each image drawn onto a 48×48 canvas and turned
// to gray with the BT.601 weights.
import { DatasetBuilder, EMOTIONS, Fer2013CsvParser, type Dataset } from '../engine.ts';

const TRAINING = 0;
const PUBLIC_TEST = 1;

export async function loadCsvFile(file: File, progress: (images: number) => void): Promise<{ train: Dataset; val: Dataset }> {
  const splits = [new DatasetBuilder(), new DatasetBuilder()];
  const bad: string[] = [];
  const parser = new Fer2013CsvParser(file.name, {
    row(usage, label, pixels) {
      if (usage === TRAINING || usage === PUBLIC_TEST) splits[usage].add(pixels, label);
    },
    bad(line, reason) {
      bad.push(`line ${line}: ${reason}`);
    },
  });
  let stream = file.stream() as ReadableStream<Uint8Array>;
  if (/\.gz$/i.test(file.name)) stream = stream.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    parser.push(r.value);
    if (bad.length > 0) throw new Error(`${file.name}: ${bad[0]}`);
    progress(splits[0].count + splits[1].count);
  }
  parser.end();
  if (bad.length > 0) throw new Error(`${file.name}: ${bad[0]}`);
  const [train, val] = splits.map((s) => s.finish());
  if (train.count === 0 || val.count === 0) throw new Error(`${file.name}: needs Training and PublicTest rows, found ${train.count} and ${val.count}`);
  return { train, val };
}

async function grayFace(file: File): Promise<Uint8Array> {
  const bitmap = await createImageBitmap(file).catch(() => {
    throw new Error(`${file.webkitRelativePath || file.name} is not an image this browser can decode`);
  });
  const ctx = new OffscreenCanvas(48, 48).getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0, 48, 48);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, 48, 48).data;
  const out = new Uint8Array(48 * 48);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  return out;
}

export async function loadImageFiles(files: File[], progress: (images: number) => void): Promise<{ train: Dataset; val: Dataset }> {
  const splits = { train: new DatasetBuilder(), test: new DatasetBuilder() };
  let done = 0;
  for (const f of files) {
    // <root>/<split>/<class>/<file>; anything else in the folder is not looked at.
    const parts = (f.webkitRelativePath || f.name).split('/');
    if (parts.length < 4 || parts.at(-1)!.startsWith('.') || !/\.(png|jpe?g)$/i.test(f.name)) continue;
    const split = parts.at(-3)!.toLowerCase();
    if (split !== 'train' && split !== 'test') continue;
    const label = EMOTIONS.indexOf(parts.at(-2)!.toLowerCase() as (typeof EMOTIONS)[number]);
    if (label < 0) throw new Error(`${f.webkitRelativePath}: unknown class folder "${parts.at(-2)}", want one of ${EMOTIONS.join(', ')}`);
    splits[split].add(await grayFace(f), label);
    if (++done % 200 === 0) progress(done);
  }
  const train = splits.train.finish();
  const val = splits.test.finish();
  if (train.count === 0 || val.count === 0) throw new Error(`the folder needs train/<class>/ and test/<class>/ images, found ${train.count} and ${val.count}`);
  return { train, val };
}
