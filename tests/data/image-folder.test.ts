import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { classCounts, PIXELS } from '../../src/data/dataset.ts';
import { loadImageFolder } from '../../src/data/image-folder.ts';
import { loadData } from '../../src/data/load.ts';
import { decodeImage, encodePng } from '../../src/image/decode.ts';
import { resize, toGray } from '../../src/image/image.ts';
import { rng } from '../support/random.ts';
import { ferDir } from './fer2013-dir.ts';

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FerError);
    expect((e as Error).message, 'one line').not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

/** What the loader should make of one file: BT.601 gray, then area-resampled to 48×48. */
function expected(path: string): Uint8Array {
  const g = toGray(decodeImage(new Uint8Array(readFileSync(path)), path));
  return Uint8Array.from(g.width === 48 && g.height === 48 ? g.data : resize(g, 48, 48).data);
}

function image(ds: { images: Uint8Array }, i: number): Uint8Array {
  return ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
}

/** An RGB test picture of any size, as PNG bytes: smooth gradients plus noise, never flat. */
function colourPng(width: number, height: number): Uint8Array {
  const next = rng();
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = next() * 255;
      data[i + 3] = 255;
    }
  }
  return encodePng({ width, height, channels: 4, data });
}

describe('loadImageFolder on images/', () => {
  it.skipIf(!ferDir)('reads 10 train and 5 test images per class, each the decoded file, classes interleaved', async () => {
    const root = join(ferDir!, 'images');
    const { splits, skipped } = await loadImageFolder(root);
    expect(skipped.count).toBe(0);
    expect(splits.Training!.count).toBe(70);
    expect(classCounts(splits.Training!)).toEqual([10, 10, 10, 10, 10, 10, 10]);
    expect(splits.PublicTest!.count).toBe(35);
    expect(classCounts(splits.PublicTest!)).toEqual([5, 5, 5, 5, 5, 5, 5]);
    // Interleaved: angry, disgust, fear, happy, sad, surprise, neutral, angry, …
    expect(Array.from(splits.Training!.labels.subarray(0, 14))).toEqual([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]);
    const names = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
    for (const [k, name] of names.entries()) {
      const files = readdirSync(join(root, 'train', name)).sort();
      expect(Buffer.from(image(splits.Training!, k)).equals(Buffer.from(expected(join(root, 'train', name, files[0])))), name).toBe(true);
      expect(Buffer.from(image(splits.Training!, 7 + k)).equals(Buffer.from(expected(join(root, 'train', name, files[1])))), name).toBe(true);
    }
  });

  it.skipIf(!ferDir)('with limit 7 keeps one image of each class per split', async () => {
    const { splits } = await loadImageFolder(join(ferDir!, 'images'), { limit: 7 });
    expect(classCounts(splits.Training!)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(classCounts(splits.PublicTest!)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('loadImageFolder on a made-up folder', () => {
  const root = mkdtempSync(join(tmpdir(), 'fer-folder-'));
  mkdirSync(join(root, 'train', 'Happy'), { recursive: true });
  mkdirSync(join(root, 'train', 'contempt'), { recursive: true });
  mkdirSync(join(root, 'test', 'sad'), { recursive: true });
  writeFileSync(join(root, 'README.txt'), 'ignored: not inside train/ or test/');
  const colour = join(root, 'train', 'Happy', 'a-colour.png');
  writeFileSync(colour, colourPng(97, 130));
  const small = join(root, 'train', 'Happy', 'b-small.PNG');
  writeFileSync(small, colourPng(20, 31));
  const corrupt = join(root, 'train', 'Happy', 'c-corrupt.jpg');
  writeFileSync(corrupt, Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8]));
  const notImage = join(root, 'train', 'Happy', 'd-notes.txt');
  writeFileSync(notImage, 'hello');
  writeFileSync(join(root, 'train', 'Happy', '.DS_Store'), 'hidden files are ignored');
  const unknown = join(root, 'train', 'contempt', 'x.png');
  writeFileSync(unknown, colourPng(48, 48));
  const test = join(root, 'test', 'sad', 'y.png');
  writeFileSync(test, colourPng(48, 48));

  it('without skipBad, the first bad file (in listing order) is a one-line error naming it', async () => {
    expect(await rejection(loadImageFolder(root))).toBe(`${notImage}: not an image file (want .jpg, .jpeg or .png)`);
  });

  it('with skipBad, converts every readable image and tallies the rest by reason', async () => {
    const { splits, skipped } = await loadImageFolder(root, { skipBad: true });
    expect(skipped.reasons).toEqual({ 'unknown class folder': 1, 'unreadable image': 1, 'not an image file': 1 });
    expect(skipped.count).toBe(3);
    expect(skipped.examples.some((e) => e.startsWith(`${corrupt}: unreadable image (`))).toBe(true);
    expect(skipped.examples).toContain(`${notImage}: not an image file (want .jpg, .jpeg or .png)`);
    expect(splits.Training!.count).toBe(2);
    expect(Array.from(splits.Training!.labels)).toEqual([3, 3]);
    expect(Buffer.from(image(splits.Training!, 0)).equals(Buffer.from(expected(colour)))).toBe(true);
    expect(Buffer.from(image(splits.Training!, 1)).equals(Buffer.from(expected(small)))).toBe(true);
    expect(splits.PublicTest!.count).toBe(1);
    expect(Array.from(splits.PublicTest!.labels)).toEqual([4]);
  });

  for (const [what, dir, file, want] of [
    ['an unreadable image', 'fear', corrupt, 'unreadable image \\(unreadable JPEG'],
    ['an unknown class folder', 'contempt', unknown, 'unknown class folder \\("contempt", want one of angry, disgust, fear, happy, sad, surprise, neutral\\)$'],
  ]) {
    it(`${what} alone is an error naming the file`, async () => {
      const one = mkdtempSync(join(tmpdir(), 'fer-folder-'));
      mkdirSync(join(one, 'train', dir), { recursive: true });
      const path = join(one, 'train', dir, 'bad.jpg');
      copyFileSync(file, path);
      expect(await rejection(loadImageFolder(one))).toMatch(new RegExp(`^${path}: ${want}`));
    });
  }

  it('follows symbolic links to class folders', async () => {
    const linked = mkdtempSync(join(tmpdir(), 'fer-folder-'));
    mkdirSync(join(linked, 'train'));
    symlinkSync(join(root, 'test', 'sad'), join(linked, 'train', 'happy'));
    const { splits } = await loadImageFolder(linked);
    expect(Array.from(splits.Training!.labels)).toEqual([3]);
    expect(Buffer.from(image(splits.Training!, 0)).equals(Buffer.from(expected(test)))).toBe(true);
  });

  it('a folder without train/ or test/, a missing folder, a file: one clear line each', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fer-folder-'));
    expect(await rejection(loadImageFolder(empty))).toBe(`${empty}: no train/ or test/ folder, want <root>/train/<class>/*.jpg and <root>/test/<class>/*.jpg`);
    expect(await rejection(loadImageFolder(join(empty, 'nope')))).toBe(`${join(empty, 'nope')}: no such folder`);
    expect(await rejection(loadImageFolder(colour))).toMatch(/: not a folder/);
  });
});

describe('loadData', () => {
  it.skipIf(!ferDir)('reads a folder as images and a file as CSV, plain or gzip whatever its name', async () => {
    const folder = await loadData(join(ferDir!, 'images'), { limit: 7 });
    expect(folder.splits.Training!.count).toBe(7);
    const csv = await loadData(join(ferDir!, 'sample.csv'), { limit: 3 });
    expect(csv.splits.Training!.count).toBe(3);
    expect(csv.splits.PublicTest!.count).toBe(3);
    const gz = join(mkdtempSync(join(tmpdir(), 'fer-load-')), 'data.bin');
    writeFileSync(gz, gzipSync(readFileSync(join(ferDir!, 'sample.csv'))));
    const fromGz = await loadData(gz, { limit: 3 });
    expect(Buffer.from(fromGz.splits.Training!.images).equals(Buffer.from(csv.splits.Training!.images))).toBe(true);
  });

  it('a path that is not there: one line', async () => {
    const missing = join(tmpdir(), 'fer-no-such-data');
    expect(await rejection(loadData(missing))).toBe(`${missing}: no such file or folder, want fer2013.csv(.gz) or a folder with train/ and test/`);
  });
});
