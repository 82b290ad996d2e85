import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { classCounts, PIXELS, type Dataset } from '../../src/data/dataset.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { randomInt } from '../support/random.ts';

const seed = randomInt(0, 2 ** 31 - 1);

/** Each image shifted to mean 0 and scaled to RMS 1, so lighting and contrast drop out. */
function standardized(ds: Dataset): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < ds.count; i++) {
    const a = Float64Array.from(ds.images.subarray(i * PIXELS, (i + 1) * PIXELS));
    const mean = a.reduce((s, v) => s + v, 0) / PIXELS;
    let ss = 0;
    for (let p = 0; p < PIXELS; p++) ss += (a[p] -= mean) ** 2;
    const rms = Math.sqrt(ss / PIXELS) || 1;
    for (let p = 0; p < PIXELS; p++) a[p] /= rms;
    out.push(a);
  }
  return out;
}

/** Plain softmax regression by SGD on standardized pixels: test accuracy on another draw. */
function linearAccuracy(train: Dataset, test: Dataset, epochs: number): number {
  const K = 7;
  const X = standardized(train);
  const W = Array.from({ length: K }, () => new Float64Array(PIXELS));
  const b = new Float64Array(K);
  const z = new Float64Array(K);
  const score = (x: Float64Array): Float64Array => {
    for (let k = 0; k < K; k++) {
      let s = b[k];
      for (let p = 0; p < PIXELS; p++) s += W[k][p] * x[p];
      z[k] = s;
    }
    return z;
  };
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < train.count; i++) {
      const s = score(X[i]);
      const max = Math.max(...s);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += (s[k] = Math.exp(s[k] - max));
      for (let k = 0; k < K; k++) {
        const g = 0.002 * (s[k] / sum - (k === train.labels[i] ? 1 : 0));
        for (let p = 0; p < PIXELS; p++) W[k][p] -= g * X[i][p];
        b[k] -= g;
      }
    }
  }
  let right = 0;
  standardized(test).forEach((x, i) => {
    const s = score(x);
    if (s.indexOf(Math.max(...s)) === test.labels[i]) right++;
  });
  return right / test.count;
}

describe('syntheticFaces', () => {
  it('is balanced over the seven classes, labels shuffled', () => {
    const ds = syntheticFaces({ count: 75, seed });
    expect(ds.count).toBe(75);
    expect(ds.images.length).toBe(75 * PIXELS);
    expect(classCounts(ds)).toEqual([11, 11, 11, 11, 11, 10, 10]);
    expect(Array.from(ds.labels.subarray(0, 14))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6]);
  });

  it('is the same for the same seed and different for another', () => {
    const a = syntheticFaces({ count: 21, seed });
    const b = syntheticFaces({ count: 21, seed });
    const c = syntheticFaces({ count: 21, seed: seed + 1 });
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    for (let i = 0; i < 21; i++) {
      expect(Buffer.from(a.images.subarray(i * PIXELS, (i + 1) * PIXELS)).equals(Buffer.from(c.images.subarray(i * PIXELS, (i + 1) * PIXELS))), `image ${i}`).toBe(false);
    }
  });

  // Skin is drawn at 95–215 and the background at least 35 levels away from it, so no image
  // is blank: the face/background step alone, after the weakest contrast (×0.7), gives a
  // standard deviation near 10 (measured over 7,000 faces: minimum 10.5, median 42).
  it('has sane pixel statistics: mid-range means, real contrast, no image repeated', () => {
    const ds = syntheticFaces({ count: 140, seed });
    const means: number[] = [];
    for (let i = 0; i < ds.count; i++) {
      const img = ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
      const mean = img.reduce((s, v) => s + v, 0) / PIXELS;
      const sd = Math.sqrt(img.reduce((s, v) => s + (v - mean) ** 2, 0) / PIXELS);
      expect(mean, `image ${i} mean`).toBeGreaterThan(25);
      expect(mean, `image ${i} mean`).toBeLessThan(230);
      expect(sd, `image ${i} standard deviation`).toBeGreaterThan(8);
      means.push(mean);
    }
    expect(new Set(means).size).toBe(ds.count);
    const all = ds.images.reduce((s, v) => s + v, 0) / ds.images.length;
    expect(all).toBeGreaterThan(70);
    expect(all).toBeLessThan(185);
  });

  // The expressions must be told apart by their geometry, not by chance. A linear model on
  // pixels is a weak learner: in a fixed pose it separates them all (measured: 100%); with full
  // variation it still does far better than the 1/7 of guessing (measured: about 60%).
  it('expressions are distinct: a linear model separates them in a fixed pose, and well above chance in any pose', () => {
    const fixed = linearAccuracy(syntheticFaces({ count: 700, seed, variation: 0 }), syntheticFaces({ count: 350, seed: seed + 1, variation: 0 }), 4);
    expect(fixed).toBeGreaterThan(0.95);
    const varied = linearAccuracy(syntheticFaces({ count: 1400, seed, variation: 1 }), syntheticFaces({ count: 700, seed: seed + 1 }), 8);
    expect(varied).toBeGreaterThan(0.45);
  });

  it('rejects a bad count, seed or variation in one line', () => {
    expect(() => syntheticFaces({ count: 0, seed: 1 })).toThrow(new FerError('syntheticFaces: count is 0, want a positive integer'));
    expect(() => syntheticFaces({ count: 7, seed: 1.5 })).toThrow(new FerError('syntheticFaces: seed is 1.5, want an integer'));
    expect(() => syntheticFaces({ count: 7, seed: 1, variation: 2 })).toThrow(new FerError('syntheticFaces: variation is 2, want a number from 0 to 1'));
  });
});
