import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import { DEFAULT_AUGMENT, NO_AUGMENT } from '../../src/data/augment.ts';
import { assembleBatch } from '../../src/data/batches.ts';
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

const seed = (): number => randomInt(0, 2 ** 31 - 1);

describe('assembleBatch', () => {
  it('lays out the chosen images as pixel/255 with their labels, in the order given', () => {
    const ds = dataset(23);
    const indices = [22, 0, 5, 5, 17];
    const { x, y } = assembleBatch(ds, indices, null, null);
    expect(x.length).toBe(indices.length * PIXELS);
    indices.forEach((i, k) => {
      expect(y[k]).toBe(ds.labels[i]);
      for (let p = 0; p < PIXELS; p++) expect(x[k * PIXELS + p]).toBe(Math.fround(ds.images[i * PIXELS + p] / 255));
    });
  });

  it('repeats its augmentation for the same generator state and changes it for another; zero strength changes nothing', () => {
    const ds = dataset(12);
    const idx = Array.from({ length: 12 }, (_, i) => i);
    const s = seed();
    const a = assembleBatch(ds, idx, DEFAULT_AUGMENT, new Random(s));
    expect(assembleBatch(ds, idx, DEFAULT_AUGMENT, new Random(s))).toEqual(a);
    expect(assembleBatch(ds, idx, DEFAULT_AUGMENT, new Random(s + 1)).x).not.toEqual(a.x);
    const plain = assembleBatch(ds, idx, null, null);
    for (const v of a.x) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(a.x).not.toEqual(plain.x);
    expect(a.y).toEqual(plain.y);
    expect(assembleBatch(ds, idx, NO_AUGMENT, new Random(s)).x).toEqual(plain.x);
  });

  it('fills caller buffers in place', () => {
    const ds = dataset(4);
    const x = new Float32Array(2 * PIXELS);
    const y = new Float32Array(2);
    const out = assembleBatch(ds, [3, 1], null, null, x, y);
    expect(out.x).toBe(x);
    expect(out.y).toBe(y);
    expect(y[0]).toBe(ds.labels[3]);
  });

  it('rejects bad indices, bad augmentation and small buffers in one line', () => {
    const ds = dataset(3);
    expect(() => assembleBatch(ds, [3], null, null)).toThrow(new FerError('assembleBatch: index 3 outside the dataset of 3 images'));
    expect(() => assembleBatch(ds, [0], DEFAULT_AUGMENT, null)).toThrow(/augmentation needs a random generator/);
    expect(() => assembleBatch(ds, [0], { ...NO_AUGMENT, contrast: -1 }, new Random(1))).toThrow(new FerError('augment: contrast is -1, want a number from 0 to 1'));
    expect(() => assembleBatch(ds, [0, 1], null, null, new Float32Array(PIXELS))).toThrow(/buffers hold 2304 pixels/);
  });
});
