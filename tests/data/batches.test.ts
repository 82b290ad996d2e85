import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import { DEFAULT_AUGMENT, NO_AUGMENT } from '../../src/data/augment.ts';
import { batches, type BatchOptions } from '../../src/data/batches.ts';
import { PIXELS, type Dataset } from '../../src/data/dataset.ts';
import { randomInt, rng } from '../support/random.ts';

/** Random bytes and labels: every image different, so a mix-up shows. */
function dataset(count: number): Dataset {
  const next = rng();
  return {
    images: Uint8Array.from({ length: count * PIXELS }, () => Math.floor(next() * 256)),
    labels: Uint8Array.from({ length: count }, () => Math.floor(next() * 7)),
    count,
  };
}

/** Copies of every batch (the iterator reuses its buffers). */
function collect(ds: Dataset, opts: BatchOptions): Array<{ x: number[]; y: number[]; size: number; indices: number[] }> {
  return Array.from(batches(ds, opts), (b) => ({ x: Array.from(b.x), y: Array.from(b.y), size: b.size, indices: Array.from(b.indices) }));
}

const seed = (): number => randomInt(0, 2 ** 31 - 1);

describe('batches', () => {
  for (const [count, batchSize] of [[23, 5], [20, 5], [1, 8], [7, 1]]) {
    it(`visits each of ${count} images exactly once in batches of ${batchSize}, x = pixel/255 and y = label`, () => {
      const ds = dataset(count);
      const got = collect(ds, { batchSize, shuffle: true, rng: new Random(seed()) });
      expect(got.map((b) => b.size)).toEqual(Array.from({ length: Math.ceil(count / batchSize) }, (_, i) => Math.min(batchSize, count - i * batchSize)));
      const all = got.flatMap((b) => b.indices);
      expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
      for (const b of got) {
        expect(b.x.length).toBe(b.size * PIXELS);
        b.indices.forEach((i, k) => {
          expect(b.y[k]).toBe(ds.labels[i]);
          for (let p = 0; p < PIXELS; p += 97) expect(b.x[k * PIXELS + p]).toBe(Math.fround(ds.images[i * PIXELS + p] / 255));
        });
      }
    });
  }

  it('dropLast leaves out only the short last batch', () => {
    const got = collect(dataset(23), { batchSize: 5, shuffle: true, rng: new Random(seed()), dropLast: true });
    expect(got.map((b) => b.size)).toEqual([5, 5, 5, 5]);
    expect(new Set(got.flatMap((b) => b.indices)).size).toBe(20);
  });

  it('repeats its order and augmentation for the same seed, changes them for another, keeps dataset order unshuffled', () => {
    const ds = dataset(30);
    const s = seed();
    const opts = (r: number): BatchOptions => ({ batchSize: 7, shuffle: true, rng: new Random(r), augment: DEFAULT_AUGMENT });
    const a = collect(ds, opts(s));
    expect(collect(ds, opts(s))).toEqual(a);
    const b = collect(ds, opts(s + 1));
    expect(b.flatMap((x) => x.indices)).not.toEqual(a.flatMap((x) => x.indices));
    const plain = collect(ds, { batchSize: 7, shuffle: false, rng: new Random(s) });
    expect(plain.flatMap((x) => x.indices)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('augmented inputs stay in [0, 1] and differ from the plain ones; zero-strength augmentation changes nothing', () => {
    const ds = dataset(12);
    const s = seed();
    const aug = collect(ds, { batchSize: 12, shuffle: false, rng: new Random(s), augment: DEFAULT_AUGMENT })[0];
    const plain = collect(ds, { batchSize: 12, shuffle: false, rng: new Random(s) })[0];
    for (const v of aug.x) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(aug.x).not.toEqual(plain.x);
    expect(aug.y).toEqual(plain.y);
    expect(collect(ds, { batchSize: 12, shuffle: false, rng: new Random(s), augment: NO_AUGMENT })[0].x).toEqual(plain.x);
  });

  it('reuses one buffer for every full batch (documented: copy before advancing)', () => {
    const xs = Array.from(batches(dataset(12), { batchSize: 4, shuffle: true, rng: new Random(1) }), (b) => b.x);
    expect(xs[1]).toBe(xs[0]);
    expect(xs[2]).toBe(xs[0]);
  });

  it('rejects a bad batch size, bad augmentation or an inconsistent dataset at the call, in one line', () => {
    const ds = dataset(3);
    const rng1 = new Random(1);
    expect(() => batches(ds, { batchSize: 0, shuffle: true, rng: rng1 })).toThrow(new FerError('batches: batchSize is 0, want a positive integer'));
    expect(() => batches(ds, { batchSize: 2, shuffle: true, rng: rng1, augment: { ...NO_AUGMENT, contrast: -1 } })).toThrow(new FerError('augment: contrast is -1, want a number from 0 to 1'));
    expect(() => batches({ ...ds, count: 4 }, { batchSize: 2, shuffle: true, rng: rng1 })).toThrow(/^batches: dataset holds 6912 bytes and 3 labels, want 9216 and 4 for count 4$/);
  });
});
