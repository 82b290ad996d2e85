import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { Random } from '../../src/backend/random.ts';
import { scope } from '../../src/backend/scope.ts';
import { assembleBatch } from '../../src/data/batches.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { classProbabilities, mirrorImages } from '../../src/nn/flip-average.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { FER_CLASSES } from '../../src/nn/models.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { softmax } from '../../src/ops/softmax-cross-entropy.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { randomArray, TEST_SEED } from '../support/random.ts';

const H = 6;
const W = 5;

function model(): Sequential {
  return new Sequential(
    'flip-test',
    [new Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }), new MaxPool2D({ size: 2 }), new Flatten(), new Dense({ units: 4 })],
    [1, H, W],
    ['a', 'b', 'c', 'd'],
  ).build(new Random(TEST_SEED), 'cpu');
}

async function probs(m: Sequential, x: Float32Array, n: number): Promise<Float32Array> {
  const p = scope(() => softmax(m.forward(tensor(x, [n, 1, H, W], 'cpu'), { training: false })));
  return p.read();
}

describe('mirrorImages', () => {
  it('reverses every row and nothing else', () => {
    // two 1×2×3 images: rows [0 1 2] [3 4 5], [6 7 8] [9 10 11]
    const x = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(mirrorImages(x, [2, 1, 2, 3]))).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
  });

  it('is its own inverse on random images', () => {
    const x = randomArray(3 * 2 * H * W);
    expect(mirrorImages(mirrorImages(x, [3, 2, H, W]), [3, 2, H, W])).toEqual(x);
  });

  it('rejects data that is not whole rows', () => {
    expect(() => mirrorImages(new Float32Array(7), [1, 1, 2, 3])).toThrow(/7 values are not whole rows of width 3/);
  });
});

describe('classProbabilities', () => {
  it('without flip is the softmax of the logits', async () => {
    const m = model();
    const x = randomArray(3 * H * W, 0, 1);
    expect(await classProbabilities(m, x, 3)).toEqual(await probs(m, x, 3));
  });

  it('with flip is the mean of the image\'s and its mirror\'s probabilities', async () => {
    const m = model();
    const n = 3;
    const x = randomArray(n * H * W, 0, 1);
    const got = await classProbabilities(m, x, n, { flip: true });
    const [a, b] = [await probs(m, x, n), await probs(m, mirrorImages(x, [n, 1, H, W]), n)];
    // Two float32 probabilities summed and halved: one rounding each, well within 1e-7 relative.
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo((a[i] + b[i]) / 2, 6);
    // A random net is not mirror-symmetric, so the flip must have changed something.
    expect(got).not.toEqual(a);
    for (let i = 0; i < n; i++) expect(got.subarray(i * 4, i * 4 + 4).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });

  it('with flip leaves left-right symmetric images unchanged', async () => {
    const m = model();
    const x = randomArray(2 * H * W, 0, 1);
    const sym = mirrorImages(x, [2, 1, H, W]).map((v, i) => (v + x[i]) / 2);
    const got = await classProbabilities(m, sym, 2, { flip: true });
    const plain = await probs(m, sym, 2);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(plain[i], 6);
  });
});

describe('evaluate with flip', () => {
  it('scores the averaged probabilities: confusion from their argmax, loss −log p(label)', async () => {
    const m = new Sequential(
      'flip-eval',
      [new Conv2D({ filters: 2, kernelSize: 3, stride: 3, activation: 'relu' }), new MaxPool2D({ size: 2 }), new Flatten(), new Dense({ units: 7 })],
      [1, 48, 48],
      FER_CLASSES,
    ).build(new Random(TEST_SEED), 'cpu');
    const ds = syntheticFaces({ count: 9, seed: TEST_SEED });
    const { x, y } = assembleBatch(ds, Array.from({ length: 9 }, (_, i) => i), null, null);
    const p = await classProbabilities(m, x, 9, { flip: true });
    let loss = 0;
    const want = Array.from({ length: 7 }, () => Array(7).fill(0));
    for (let i = 0; i < 9; i++) {
      const row = Array.from(p.subarray(i * 7, i * 7 + 7));
      want[y[i]][row.indexOf(Math.max(...row))]++;
      loss -= Math.log(row[y[i]]) / 9;
    }
    const e = await evaluate(m, ds, { flip: true, batchSize: 4 });
    expect(e.confusion).toEqual(want);
    expect(e.loss).toBeCloseTo(loss, 5);
    expect(e.correct).toBe(want.reduce((s, r, c) => s + r[c], 0));
  });
});
