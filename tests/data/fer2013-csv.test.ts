import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { classCounts, PIXELS, USAGES, type Dataset } from '../../src/data/dataset.ts';
import { Fer2013CsvParser } from '../../src/data/fer2013-csv-parser.ts';
import { loadFer2013Csv, type LoadResult } from '../../src/data/fer2013-csv.ts';
import { rng } from '../support/random.ts';
import { ferDir } from './fer2013-dir.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fer-csv-'));
let fileNo = 0;
function tempFile(content: string | Uint8Array, name = `t${fileNo++}.csv`): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

/** The obvious parser, on the whole text: the specification the streaming one must match. */
function naiveParse(text: string): Record<string, { images: number[]; labels: number[] }> {
  const out: Record<string, { images: number[]; labels: number[] }> = {};
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  expect(lines[0].trim()).toBe('emotion,pixels,Usage');
  for (const line of lines.slice(1)) {
    const [emotion, pixels, usage] = line.trim().split(',');
    const px = pixels.trim().split(/ +/).map(Number);
    expect(px.length).toBe(PIXELS);
    (out[usage] ??= { images: [], labels: [] }).images.push(...px);
    out[usage].labels.push(Number(emotion));
  }
  return out;
}

function expectSameSplits(a: LoadResult['splits'], b: LoadResult['splits']): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const u of USAGES) {
    if (!a[u]) continue;
    expect(a[u]!.count, u).toBe(b[u]!.count);
    expect(Buffer.from(a[u]!.labels).equals(Buffer.from(b[u]!.labels)), `${u} labels`).toBe(true);
    expect(Buffer.from(a[u]!.images).equals(Buffer.from(b[u]!.images)), `${u} images`).toBe(true);
  }
}

/** A valid row, with pixels from the test generator. */
function row(label: number | string, usage: string, next = rng()): string {
  const px = Array.from({ length: PIXELS }, () => Math.floor(next() * 256));
  return `${label},${px.join(' ')},${usage}`;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FerError);
    const msg = (e as Error).message;
    expect(msg, 'one line').not.toContain('\n');
    return msg;
  }
  throw new Error('expected a rejection');
}

describe('loadFer2013Csv on sample.csv', () => {
  it.skipIf(!ferDir)('finds 100 Training and 20 PublicTest rows per class, equal to a naive parse, byte for byte', async () => {
    const path = join(ferDir!, 'sample.csv');
    const { splits, skipped } = await loadFer2013Csv(path);
    expect(skipped.count).toBe(0);
    expect(Object.keys(splits).sort()).toEqual(['PublicTest', 'Training']);
    expect(splits.Training!.count).toBe(700);
    expect(classCounts(splits.Training!)).toEqual([100, 100, 100, 100, 100, 100, 100]);
    expect(splits.PublicTest!.count).toBe(140);
    expect(classCounts(splits.PublicTest!)).toEqual([20, 20, 20, 20, 20, 20, 20]);
    const ref = naiveParse(readFileSync(path, 'latin1'));
    for (const u of ['Training', 'PublicTest'] as const) {
      expect(Array.from(splits[u]!.labels)).toEqual(ref[u].labels);
      expect(Buffer.from(splits[u]!.images).equals(Buffer.from(ref[u].images))).toBe(true);
    }
  });

  it.skipIf(!ferDir)('reads a gzipped copy (named .csv: detected by its magic bytes) to the same result', async () => {
    const path = join(ferDir!, 'sample.csv');
    const plain = await loadFer2013Csv(path);
    const gz = await loadFer2013Csv(tempFile(gzipSync(readFileSync(path)), 'sample-gzipped.csv'));
    expect(gz.skipped.count).toBe(0);
    expectSameSplits(gz.splits, plain.splits);
  });

  it.skipIf(!ferDir)('gives the same result whatever the chunk boundaries (fed 1–200 bytes at a time)', async () => {
    const bytes = new Uint8Array(readFileSync(join(ferDir!, 'sample.csv')));
    const whole = await loadFer2013Csv(join(ferDir!, 'sample.csv'));
    const labels: number[] = [];
    const images: number[] = [];
    const parser = new Fer2013CsvParser('chunks', {
      row(usage, label, pixels) {
        if (usage !== 0) return;
        labels.push(label);
        for (const v of pixels) images.push(v);
      },
      bad(line, reason) {
        throw new Error(`line ${line}: ${reason}`);
      },
    });
    const next = rng();
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(next() * 200);
      parser.push(bytes.subarray(i, i + n));
      i += n;
    }
    parser.end();
    expect(labels).toEqual(Array.from(whole.splits.Training!.labels));
    expect(Buffer.from(images).equals(Buffer.from(whole.splits.Training!.images))).toBe(true);
  });

  it.skipIf(!ferDir)('keeps the first `limit` rows per split, only the splits asked for, and reports progress up to 1', async () => {
    const path = join(ferDir!, 'sample.csv');
    const all = await loadFer2013Csv(path);
    const fractions: number[] = [];
    const { splits } = await loadFer2013Csv(path, { limit: 5, splits: ['PublicTest'], onProgress: (f) => fractions.push(f) });
    expect(Object.keys(splits)).toEqual(['PublicTest']);
    expect(splits.PublicTest!.count).toBe(5);
    expect(Array.from(splits.PublicTest!.labels)).toEqual(Array.from(all.splits.PublicTest!.labels.subarray(0, 5)));
    expect(Buffer.from(splits.PublicTest!.images).equals(Buffer.from(all.splits.PublicTest!.images.subarray(0, 5 * PIXELS)))).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
  });
});

describe('loadFer2013Csv on layout variations', () => {
  const next = rng();
  const rows = [row(3, 'Training', next), row(0, 'PublicTest', next), row(6, 'PrivateTest', next), row(1, 'Training', next)];
  const canonical = `emotion,pixels,Usage\n${rows.join('\n')}\n`;

  it('accepts any column order, quotes, CRLF, a BOM, blank lines and no final newline', async () => {
    const want = await loadFer2013Csv(tempFile(canonical));
    expect(want.splits.Training!.count).toBe(2);
    expect(want.splits.PrivateTest!.count).toBe(1);
    const reordered = rows.map((r) => {
      const [e, p, u] = r.split(',');
      return `"${u}", "${p}" ,${e}`;
    });
    const variant = `\ufeff"Usage",pixels, emotion\r\n${reordered[0]}\r\n\r\n${reordered.slice(1).join('\r\n')}`;
    const got = await loadFer2013Csv(tempFile(variant));
    expect(got.skipped.count).toBe(0);
    expectSameSplits(got.splits, want.splits);
  });

  it('accepts extra columns and a header-only file', async () => {
    const extra = `id,emotion,pixels,Usage\n${rows.map((r, i) => `${i},${r}`).join('\n')}\n`;
    expectSameSplits((await loadFer2013Csv(tempFile(extra))).splits, (await loadFer2013Csv(tempFile(canonical))).splits);
    const empty = await loadFer2013Csv(tempFile('emotion,pixels,Usage\n'));
    expect(empty.splits).toEqual({});
    expect(empty.skipped.count).toBe(0);
  });
});

describe('loadFer2013Csv on bad rows', () => {
  const next = rng();
  const good = row(2, 'Training', next);
  const [, goodPixels] = good.split(',');
  const values = goodPixels.split(' ');
  const withPixel = (i: number, v: string): string => values.map((p, j) => (j === i ? v : p)).join(' ');
  // [reason, the bad row]
  const cases: Array<[string, string]> = [
    ['wrong pixel count', `2,${values.slice(1).join(' ')},Training`],
    ['wrong pixel count', `2,${goodPixels} 17,Training`],
    ['pixel value out of range', `2,${withPixel(100, '256')},Training`],
    ['pixel value out of range', `2,${withPixel(7, '-3')},Training`],
    ['non-numeric pixel', `2,${withPixel(2303, '12a')},Training`],
    ['non-numeric pixel', `2,${withPixel(0, '1.5')},Training`],
    ['unknown label', `7,${goodPixels},Training`],
    ['unknown label', `sad,${goodPixels},Training`],
    ['unknown Usage', `2,${goodPixels},Validation`],
    ['missing field', `2,${goodPixels}`],
    ['missing field', `,${goodPixels},Training`],
    ['missing field', `2,,Training`],
    ['too many fields', `2,${goodPixels},Training,x`],
    ['unbalanced quote', `2,${goodPixels},"Training`],
  ];

  for (const [reason, bad] of cases) {
    it(`${reason}: throws "<file>:<line>: ${reason} (…)" without skipBad; skips and counts it with skipBad`, async () => {
      // Header, two good rows, a blank line, the bad row (line 5), a good row.
      const path = tempFile(`emotion,pixels,Usage\n${good}\n${good}\n\n${bad}\n${good}\n`);
      const msg = await rejection(loadFer2013Csv(path));
      expect(msg.startsWith(`${path}:5: ${reason} (`), msg.slice(0, 200)).toBe(true);
      const { splits, skipped } = await loadFer2013Csv(path, { skipBad: true });
      expect(splits.Training!.count).toBe(3);
      expect(skipped.count).toBe(1);
      expect(skipped.reasons).toEqual({ [reason]: 1 });
      expect(skipped.examples).toEqual([msg]);
    });
  }

  it('tallies several bad rows by reason and keeps the first few examples', async () => {
    const bads = cases.map(([, b]) => b);
    const path = tempFile(`emotion,pixels,Usage\n${bads.join('\n')}\n${good}\n`);
    const { splits, skipped } = await loadFer2013Csv(path, { skipBad: true });
    expect(splits.Training!.count).toBe(1);
    expect(skipped.count).toBe(cases.length);
    const want: Record<string, number> = {};
    for (const [r] of cases) want[r] = (want[r] ?? 0) + 1;
    expect(skipped.reasons).toEqual(want);
    expect(skipped.examples.length).toBe(5);
    expect(skipped.examples[0].startsWith(`${path}:2: wrong pixel count`)).toBe(true);
  });
});

describe('loadFer2013Csv on bad files', () => {
  const good = row(4, 'PublicTest');

  it('a header without a needed column: one line naming it', async () => {
    const msg = await rejection(loadFer2013Csv(tempFile(`emotion,pixels\n4,1 2 3\n`)));
    expect(msg).toMatch(/:1: header has no Usage column \(got "emotion,pixels"; want emotion,pixels,Usage/);
    const dup = await rejection(loadFer2013Csv(tempFile(`emotion,pixels,Usage,pixels\n`)));
    expect(dup).toMatch(/:1: header has 2 pixels columns/);
    const none = await rejection(loadFer2013Csv(tempFile(`${good}\n`)));
    expect(none).toMatch(/:1: (header has no emotion column|no header line)/);
  });

  it('a file that is not there, a folder, an empty file, a corrupt gzip, bad options', async () => {
    const missing = join(tmp, 'nope.csv');
    expect(await rejection(loadFer2013Csv(missing))).toBe(`${missing}: no such file`);
    expect(await rejection(loadFer2013Csv(tmp))).toMatch(/is a directory/);
    expect(await rejection(loadFer2013Csv(tempFile('')))).toMatch(/: empty file, want a header line emotion,pixels,Usage$/);
    const gz = gzipSync(Buffer.from(`emotion,pixels,Usage\n${good}\n`));
    const corrupt = Uint8Array.from(gz);
    corrupt.fill(0x55, 12, 60);
    expect(await rejection(loadFer2013Csv(tempFile(corrupt)))).toMatch(/: corrupt gzip data \(/);
    expect(await rejection(loadFer2013Csv(tempFile(gz.subarray(0, gz.length - 30))))).toMatch(/: corrupt gzip data \(/);
    const ok = tempFile(`emotion,pixels,Usage\n${good}\n`);
    expect(await rejection(loadFer2013Csv(ok, { limit: 0 }))).toBe('loadFer2013Csv: limit is 0, want a positive integer (images per split)');
    expect(await rejection(loadFer2013Csv(ok, { splits: ['Test' as 'Training'] }))).toMatch(/split "Test" is unknown/);
  });
});

describe('loadFer2013Csv on the full fer2013.csv.gz', () => {
  it.skipIf(!ferDir)('matches the README counts (about a second)', async () => {
    const { splits, skipped } = await loadFer2013Csv(join(ferDir!, 'fer2013.csv.gz'));
    expect(skipped.count).toBe(0);
    expect(classCounts(splits.Training as Dataset)).toEqual([3995, 436, 4097, 7215, 4830, 3171, 4965]);
    expect(classCounts(splits.PublicTest as Dataset)).toEqual([467, 56, 496, 895, 653, 415, 607]);
    expect(splits.PrivateTest).toBeUndefined();
  });
});
