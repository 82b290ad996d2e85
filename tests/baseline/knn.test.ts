import { describe, expect, it } from 'vitest';
import { knnPredict, Nearest, vote, type KnnOptions } from '../../src/baseline/knn.ts';
import { samples, type Samples } from '../../src/baseline/samples.ts';
import { pairwiseDistanceRef, type Metric } from '../../src/ops/pairwise-distance.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray, randomInt } from '../support/random.ts';

const cpu = (k: number, metric: Metric = 'l1'): KnnOptions => ({ k, metric, backend: 'cpu', classes: 3 });
const points = (xy: number[][], labels: number[]): Samples => samples(Float32Array.from(xy.flat()), labels, xy[0].length);

describe('knn on hand-made points', () => {
  // Class 0 around (0,0), class 1 around (10,0), class 2 around (0,10).
  const train = points([[0, 0], [1, 0], [10, 0], [11, 1], [0, 10], [1, 11]], [0, 0, 1, 1, 2, 2]);

  it('k = 1 gives the class of the nearest training point', async () => {
    const test = points([[0.4, 0.2], [9, 1], [2, 9], [10.9, 0.9]], [0, 1, 2, 1]);
    expect(Array.from(await knnPredict(train, test, cpu(1)))).toEqual([0, 1, 2, 1]);
    expect(Array.from(await knnPredict(train, test, cpu(1, 'l2')))).toEqual([0, 1, 2, 1]);
  });

  it('k = 3 outvotes the nearest point when the next two agree', async () => {
    // From (5.2,0): a lone class-2 point at 0.2, then two class-1 points at 0.8 and 1.8 (L1).
    const t = points([[5, 0], [6, 0], [6.5, 0.5], [0, 10]], [2, 1, 1, 2]);
    const q = points([[5.2, 0]], [0]);
    expect(Array.from(await knnPredict(t, q, { ...cpu(1), classes: 3 }))).toEqual([2]);
    expect(Array.from(await knnPredict(t, q, { ...cpu(3), classes: 3 }))).toEqual([1]);
  });

  it('a tied vote goes to the class of the nearest neighbour', async () => {
    // k = 2: one neighbour of each class; k = 4: two of each. The nearest is class 1 both times.
    const t = points([[1, 0], [2, 0], [3, 0], [4, 0]], [1, 0, 0, 1]);
    const q = points([[0, 0]], [0]);
    expect(Array.from(await knnPredict(t, q, cpu(2)))).toEqual([1]);
    expect(Array.from(await knnPredict(t, q, cpu(4)))).toEqual([1]);
    expect(vote([2, 0, 0, 2, 1], 3)).toBe(2);
    expect(vote([2, 0, 0, 1], 3)).toBe(0);
  });

  it('equal distances keep the earlier training row', async () => {
    const t = points([[-1, 0], [1, 0]], [2, 0]);
    const q = points([[0, 0]], [0]);
    expect(Array.from(await knnPredict(t, q, cpu(1)))).toEqual([2]);
    const n = new Nearest(1, 2);
    for (const [d, j] of [[5, 0], [3, 1], [3, 2], [1, 3], [4, 4]]) n.offer(0, d, j);
    expect(Array.from(n.dist)).toEqual([1, 3]);
    expect(Array.from(n.index)).toEqual([3, 1]);
  });

  it('L1 and L2 disagree where the nearest point differs between them', async () => {
    // From the origin: (3,0) is at L1 3, L2² 9; (2,2) at L1 4, L2² 8.
    const t = points([[3, 0], [2, 2]], [0, 1]);
    const q = points([[0, 0]], [0]);
    expect(Array.from(await knnPredict(t, q, cpu(1, 'l1')))).toEqual([0]);
    expect(Array.from(await knnPredict(t, q, cpu(1, 'l2')))).toEqual([1]);
  });

  it('rejects k larger than the training set, and rows of different lengths, in one line', async () => {
    await expect(knnPredict(train, points([[0, 0]], [0]), cpu(7))).rejects.toThrow(/^knn: k is 7 but there are only 6 training images$/);
    await expect(knnPredict(train, points([[0, 0, 0]], [0]), cpu(1))).rejects.toThrow(/^knn: training rows have 2 values but test rows 3$/);
  });
});

/** Brute force: every distance by the reference, a full sort (ties by index), the vote. */
function bruteForce(train: Samples, test: Samples, k: number, metric: Metric, classes: number): number[] {
  const d = new Float64Array(test.count * train.count);
  pairwiseDistanceRef(Float64Array.from(test.x), Float64Array.from(train.x), d, test.count, train.count, train.dim, metric);
  return Array.from({ length: test.count }, (_, i) => {
    const order = Array.from({ length: train.count }, (_, j) => j).sort((a, b) => d[i * train.count + a] - d[i * train.count + b] || a - b);
    return vote(order.slice(0, k).map((j) => train.labels[j]), classes);
  });
}

function randomPixels(count: number, dim: number, classes: number): Samples {
  const x = Float32Array.from(randomArray(count * dim, 0, 256), Math.floor);
  return samples(x, Array.from({ length: count }, () => randomInt(0, classes - 1)), dim);
}

describe('knn on random pixels', () => {
  for (const metric of ['l1', 'l2'] as const) {
    it(`matches brute force whatever the block sizes, ${metric}`, async () => {
      // Integer pixels: l1 sums are exact, so ties are real ties and must break the same way.
      const train = randomPixels(53, 19, 7);
      const test = randomPixels(23, 19, 7);
      for (const k of [1, 4, 9]) {
        const want = bruteForce(train, test, k, metric, 7);
        for (const [testBlock, trainBlock] of [[256, 8192], [5, 7], [1, 53]]) {
          const got = await knnPredict(train, test, { k, metric, backend: 'cpu', classes: 7, testBlock, trainBlock });
          if (metric === 'l1') expect(Array.from(got), `k=${k} blocks ${testBlock}/${trainBlock}`).toEqual(want);
          // l2 on the CPU goes through ‖a‖² + ‖b‖² − 2a·b in float32: near-ties may flip, so allow one.
          else expect(Array.from(got).filter((c, i) => c !== want[i]).length).toBeLessThanOrEqual(1);
        }
      }
    });
  }

  it.skipIf(!gpu)('WebGPU gives the same predictions as the CPU (l1, exact sums of integer pixels)', async () => {
    const train = randomPixels(45, 37, 7);
    const test = randomPixels(13, 37, 7);
    for (const k of [1, 5]) {
      const o = { k, metric: 'l1' as const, classes: 7, trainBlock: 20, testBlock: 6 };
      const c = await knnPredict(train, test, { ...o, backend: 'cpu' });
      const g = await knnPredict(train, test, { ...o, backend: 'webgpu' });
      expect(Array.from(g)).toEqual(Array.from(c));
    }
  });
});
