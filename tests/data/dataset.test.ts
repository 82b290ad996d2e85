import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { DatasetBuilder } from '../../src/data/dataset-builder.ts';
import { classCounts, classWeights, PIXELS, randomSubset, subset, type Dataset } from '../../src/data/dataset.ts';
import { displayName, EMOTIONS, emotionIndex } from '../../src/data/emotions.ts';
import { rng } from '../support/random.ts';

function dataset(labels: number[]): Dataset {
  const next = rng();
  return { images: Uint8Array.from({ length: labels.length * PIXELS }, () => Math.floor(next() * 256)), labels: Uint8Array.from(labels), count: labels.length };
}

const image = (ds: Dataset, i: number): Uint8Array => ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);

describe('emotions', () => {
  it('follow FER2013 label order, with names both ways', () => {
    expect(EMOTIONS).toEqual(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']);
    EMOTIONS.forEach((e, i) => expect(emotionIndex(e)).toBe(i));
    expect(emotionIndex('Happy')).toBe(3);
    expect(emotionIndex('contempt')).toBe(-1);
    expect(displayName(5)).toBe('Surprise');
    expect(() => displayName(7)).toThrow(new FerError('displayName: label 7 is not a class index, want an integer 0–6'));
  });
});

describe('Dataset helpers', () => {
  it('classCounts counts each class and rejects a label out of range', () => {
    expect(classCounts(dataset([3, 3, 0, 6, 3]))).toEqual([1, 0, 0, 3, 0, 0, 1]);
    expect(() => classCounts(dataset([1, 9]))).toThrow(new FerError('classCounts: label 9 at image 1 is not a class index, want 0–6'));
  });

  it('subset copies the chosen images in order, repeats allowed, and rejects bad indices', () => {
    const ds = dataset([0, 1, 2, 3]);
    const s = subset(ds, [3, 1, 3]);
    expect(s.count).toBe(3);
    expect(Array.from(s.labels)).toEqual([3, 1, 3]);
    expect(Array.from(image(s, 0))).toEqual(Array.from(image(ds, 3)));
    expect(Array.from(image(s, 1))).toEqual(Array.from(image(ds, 1)));
    s.images[0] ^= 1;
    expect(s.images[0]).not.toBe(ds.images[3 * PIXELS]);
    expect(() => subset(ds, [0, 4])).toThrow(new FerError('subset: indices[1] is 4, want an integer 0–3'));
  });

  it("classWeights are 'balanced' (count / (K·count_k)): every present class carries the same total weight", () => {
    const labels = [0, 0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5, 5, 5, 5, 6, 6];
    const w = classWeights(dataset(labels), () => {});
    const counts = classCounts(dataset(labels));
    counts.forEach((c, k) => expect(w[k]).toBeCloseTo(labels.length / (7 * c), 12));
    counts.forEach((c, k) => expect(c * w[k]).toBeCloseTo(labels.length / 7, 12));
  });

  it('classWeights give an absent class 0 and report it', () => {
    const reported: string[][] = [];
    const w = classWeights(dataset([0, 0, 3, 3, 3, 6]), (m) => reported.push(m));
    expect(reported).toEqual([['disgust', 'fear', 'sad', 'surprise']]);
    expect(w).toEqual([6 / (3 * 2), 0, 0, 6 / (3 * 3), 0, 0, 6 / 3]);
  });
});

describe('DatasetBuilder', () => {
  it('packs images added one at a time across chunk boundaries', () => {
    const next = rng();
    const n = 2500;
    const want = dataset(Array.from({ length: n }, () => Math.floor(next() * 7)));
    const b = new DatasetBuilder();
    const scratch = new Uint8Array(PIXELS);
    for (let i = 0; i < n; i++) {
      scratch.set(image(want, i));
      b.add(scratch, want.labels[i]);
    }
    const got = b.finish();
    expect(got.count).toBe(n);
    expect(Buffer.from(got.labels).equals(Buffer.from(want.labels))).toBe(true);
    expect(Buffer.from(got.images).equals(Buffer.from(want.images))).toBe(true);
    expect(b.finish().count).toBe(0);
  });
});

describe('randomSubset', () => {
  // 200 images sorted by class, as this copy of FER2013 lists its Training split; each image's
  // first pixel is its index so the test can see which ones were drawn.
  const sorted: Dataset = {
    count: 200,
    labels: Uint8Array.from({ length: 200 }, (_, i) => Math.floor(i / 50)),
    images: Uint8Array.from({ length: 200 * PIXELS }, (_, p) => (p % PIXELS === 0 ? p / PIXELS : 7)),
  };
  const drawn = (ds: Dataset) => Array.from({ length: ds.count }, (_, i) => ds.images[i * PIXELS]);

  it('draws n distinct images in file order, from every part of the file', () => {
    const s = randomSubset(sorted, 40, 3);
    const idx = drawn(s);
    expect(s.count).toBe(40);
    expect(new Set(idx).size).toBe(40);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    for (let j = 0; j < 40; j++) expect(s.labels[j]).toBe(Math.floor(idx[j] / 50));
    // The first 40 rows would all be class 0; a uniform draw of 40 from 4 blocks of 50 misses a
    // block with probability under 4·(150 choose 40)/(200 choose 40) ≈ 1e-5.
    expect(classCounts(s).slice(0, 4).every((c) => c > 0)).toBe(true);
  });

  it('is repeatable for a seed, differs between seeds, and keeps a small set whole', () => {
    expect(drawn(randomSubset(sorted, 25, 9))).toEqual(drawn(randomSubset(sorted, 25, 9)));
    expect(drawn(randomSubset(sorted, 25, 9))).not.toEqual(drawn(randomSubset(sorted, 25, 10)));
    expect(randomSubset(sorted, 500, 1)).toBe(sorted);
    expect(() => randomSubset(sorted, 0, 1)).toThrow(/n is 0, want a positive integer/);
  });
});
