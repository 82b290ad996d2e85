import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { softmax, softmaxCrossEntropy, softmaxCrossEntropyRef, softmaxRef } from '../../src/ops/softmax-cross-entropy.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray, randomInt } from '../support/random.ts';

function randomLabels(N: number, K: number): Float32Array {
  return Float32Array.from({ length: N }, () => randomInt(0, K - 1));
}

/** Class weights in [0.2, 3): never zero, and far enough from uniform that a dropped weight shows. */
const randomWeights = (K: number) => randomArray(K, 0.2, 3);

/** The definition, written the naive way (fine for logits of moderate size): Σ w·(−log p_y) / Σ w. */
function naiveLoss(z: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number> | null, N: number, K: number): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let c = 0; c < K; c++) s += Math.exp(z[i * K + c]);
    const wi = w ? w[y[i]] : 1;
    num += wi * -Math.log(Math.exp(z[i * K + y[i]]) / s);
    den += wi;
  }
  return num / den;
}

describe('softmax cross-entropy: the CPU reference', () => {
  it('agrees with the naive definition, with and without class weights', async () => {
    const [N, K] = [9, 7];
    const z = randomArray(N * K, -3, 3);
    const y = randomLabels(N, K);
    const w = randomWeights(K);
    for (const weights of [null, w]) {
      const { loss } = softmaxCrossEntropy(tensor(z, [N, K], 'cpu'), tensor(y, [N], 'cpu'), weights && tensor(weights, [K], 'cpu'));
      // float32 inputs, float64 arithmetic, one rounding of the result: 1e-6 is ample
      expectClose(await loss.read(), [naiveLoss(z, y, weights, N, K)], 1e-6, 'loss');
    }
  });

  it('label smoothing: the cross-entropy against (1 − ε)·onehot + ε/K, weighted by the true class', async () => {
    const [N, K, eps] = [9, 7, 0.1];
    const z = randomArray(N * K, -3, 3);
    const y = randomLabels(N, K);
    const w = randomWeights(K);
    for (const weights of [null, w]) {
      let num = 0;
      let den = 0;
      const dz = new Float64Array(N * K);
      for (let i = 0; i < N; i++) {
        const row = Array.from(z.subarray(i * K, (i + 1) * K));
        const s = row.reduce((a, v) => a + Math.exp(v), 0);
        const wi = weights ? weights[y[i]] : 1;
        row.forEach((v, c) => (num -= wi * ((c === y[i] ? 1 - eps : 0) + eps / K) * Math.log(Math.exp(v) / s)));
        den += wi;
      }
      for (let i = 0; i < N; i++) {
        const row = Array.from(z.subarray(i * K, (i + 1) * K));
        const s = row.reduce((a, v) => a + Math.exp(v), 0);
        const wi = weights ? weights[y[i]] : 1;
        row.forEach((v, c) => (dz[i * K + c] = (wi * (Math.exp(v) / s - ((c === y[i] ? 1 - eps : 0) + eps / K))) / den));
      }
      const got = softmaxCrossEntropy(tensor(z, [N, K], 'cpu'), tensor(y, [N], 'cpu'), weights && tensor(weights, [K], 'cpu'), eps);
      expectClose(await got.loss.read(), [num / den], 1e-6, 'smoothed loss');
      expectClose(await got.dlogits.read(), dz, 1e-6, 'smoothed dlogits');
      // and it is not the unsmoothed loss: a dropped ε would fail above, shown here to differ
      const plain = await softmaxCrossEntropy(tensor(z, [N, K], 'cpu'), tensor(y, [N], 'cpu'), weights && tensor(weights, [K], 'cpu')).loss.read();
      expect(Math.abs(plain[0] - num / den)).toBeGreaterThan(1e-3);
    }
  });

  it('equal logits give log K', async () => {
    const { loss } = softmaxCrossEntropy(tensor(new Float32Array(3 * 7).fill(0.25), [3, 7], 'cpu'), tensor([0, 3, 6], [3], 'cpu'));
    expect((await loss.read())[0]).toBeCloseTo(Math.log(7), 6);
  });

  it('stays finite for logits of ±1000 (the row max is subtracted)', async () => {
    const z = [1000, 0, -1000, -1000, 1000, 999];
    const { loss, dlogits } = softmaxCrossEntropy(tensor(z, [2, 3], 'cpu'), tensor([0, 2], [2], 'cpu'));
    // row 0: −log p = log(1 + e⁻¹⁰⁰⁰ + e⁻²⁰⁰⁰) ≈ 0; row 1: −log p = lse − 999 = 1 + log(1 + e⁻¹ + e⁻²⁰⁰⁰)
    const want = (0 + (1000 + Math.log(1 + Math.exp(-1)) - 999)) / 2;
    expectClose(await loss.read(), [want], 1e-6, 'loss');
    expectClose(await dlogits.read(), [0, 0, 0, 0, 1 / (1 + Math.exp(-1)) / 2, (1 / (1 + Math.E) - 1) / 2], 1e-6, 'dlogits');
  });

  it('softmax rows sum to 1', async () => {
    const [N, K] = [5, 11];
    const p = await softmax(tensor(randomArray(N * K, -10, 10), [N, K], 'cpu')).read();
    for (let i = 0; i < N; i++) {
      const s = p.subarray(i * K, (i + 1) * K).reduce((a, b) => a + b, 0);
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
    }
  });

  for (const [weighted, eps] of [[false, 0], [true, 0], [false, 0.1], [true, 0.3]] as const) {
    it(`dlogits match finite differences in float64${weighted ? ', with class weights' : ''}${eps ? `, label smoothing ${eps}` : ''}`, () => {
      const [N, K] = [6, 5];
      const z = toF64(randomArray(N * K, -3, 3));
      const y = toF64(randomLabels(N, K));
      const w = weighted ? toF64(randomWeights(K)) : null;
      const scratch = new Float64Array(N * K);
      const loss = (v: Float64Array) => softmaxCrossEntropyRef(v, y, w, N, K, scratch, eps);
      const dz = new Float64Array(N * K);
      softmaxCrossEntropyRef(z, y, w, N, K, dz, eps);
      expectGradient('dlogits', z, loss, dz);
    });
  }

  it('softmax is the gradient of log-sum-exp (finite differences in float64)', () => {
    const [N, K] = [3, 6];
    const z = toF64(randomArray(N * K, -3, 3));
    const lse = (v: Float64Array) => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        let e = 0;
        for (let c = 0; c < K; c++) e += Math.exp(v[i * K + c]);
        s += Math.log(e);
      }
      return s;
    };
    const p = new Float64Array(N * K);
    softmaxRef(z, N, K, p);
    expectGradient('softmax', z, lse, p);
  });
});

describe('softmax cross-entropy: WebGPU against the CPU twin', () => {
  for (const [N, K] of [[1, 1], [1, 7], [5, 3], [33, 7], [256, 7], [300, 13]]) {
    for (const [weighted, eps] of [[false, 0], [true, 0], [false, 0.1], [true, 0.25]] as const) {
      it.skipIf(!gpu)(`N=${N} K=${K}${weighted ? ' with class weights' : ''}${eps ? `, label smoothing ${eps}` : ''}`, async () => {
        const z = randomArray(N * K, -4, 4);
        const y = randomLabels(N, K);
        const w = randomWeights(K);
        const run = (be: 'cpu' | 'webgpu') =>
          softmaxCrossEntropy(tensor(z, [N, K], be), tensor(y, [N], be), weighted ? tensor(w, [K], be) : null, eps);
        const want = run('cpu');
        const got = run('webgpu');
        if (K === 1) {
          // One class: the loss is 0 and both sides hold rounding noise (SwiftShader's log(1)
          // gave 2e-8), so a relative error means nothing; absolutely, both are 0 to rounding.
          expect(Math.abs((await got.loss.read())[0]), 'loss of one class').toBeLessThan(1e-6);
          expect(Math.abs((await want.loss.read())[0]), 'loss of one class').toBeLessThan(1e-6);
        } else expectClose(await got.loss.read(), await want.loss.read(), GPU_TOLERANCE, 'loss');
        expectClose(await got.dlogits.read(), await want.dlogits.read(), GPU_TOLERANCE, 'dlogits');
        expectClose(await softmax(tensor(z, [N, K], 'webgpu')).read(), await softmax(tensor(z, [N, K], 'cpu')).read(), GPU_TOLERANCE, 'softmax');
      });
    }
  }

  it.skipIf(!gpu)('stays finite for logits of ±1000 on the GPU too', async () => {
    const z = [1000, 0, -1000, -1000, 1000, 999];
    const run = (be: 'cpu' | 'webgpu') => softmaxCrossEntropy(tensor(z, [2, 3], be), tensor([0, 2], [2], be));
    expectClose(await run('webgpu').loss.read(), await run('cpu').loss.read(), GPU_TOLERANCE, 'loss');
    expectClose(await run('webgpu').dlogits.read(), await run('cpu').dlogits.read(), GPU_TOLERANCE, 'dlogits');
    expectClose(await softmax(tensor(z, [2, 3], 'webgpu')).read(), await softmax(tensor(z, [2, 3], 'cpu')).read(), GPU_TOLERANCE, 'softmax');
  });

  for (const bad of [7, -1, 2.5, NaN]) {
    it.skipIf(!gpu)(`a label of ${bad} gives a NaN loss and gradient on the GPU instead of reading out of bounds`, async () => {
      const [N, K] = [4, 7];
      const { loss, dlogits } = softmaxCrossEntropy(tensor(randomArray(N * K), [N, K], 'webgpu'), tensor([1, bad, 3, 0], [N], 'webgpu'));
      expect((await loss.read())[0]).toBeNaN();
      expect(Array.from(await dlogits.read()).every(Number.isNaN)).toBe(true);
    });
  }
});

describe('softmax cross-entropy: bad input', () => {
  const z = () => tensor(randomArray(12), [4, 3], 'cpu');

  it('rejects labels that are not class indices on the CPU, in one line', () => {
    for (const bad of [3, -1, 0.5, NaN]) {
      expect(() => softmaxCrossEntropy(z(), tensor([0, 1, bad, 2], [4], 'cpu'))).toThrow(
        new RegExp(`^softmaxCrossEntropy: labels\\[2\\] is ${bad}, wanted an integer class index in 0\\.\\.2$`),
      );
    }
  });

  it('rejects mismatched shapes, in one line each', () => {
    expect(() => softmaxCrossEntropy(z(), tensor([0, 1, 2], [3], 'cpu'))).toThrow(/^softmaxCrossEntropy: labels has shape \[3\], wanted \[4\] one class index per row of logits$/);
    expect(() => softmaxCrossEntropy(z(), tensor([0, 1, 2, 0], [4], 'cpu'), tensor([1, 1], [2], 'cpu'))).toThrow(/^softmaxCrossEntropy: classWeights has shape \[2\], wanted \[3\] one weight per class$/);
    expect(() => softmaxCrossEntropy(tensor(randomArray(12), [12], 'cpu'), tensor([0], [1], 'cpu'))).toThrow(/^softmaxCrossEntropy: logits has shape \[12\], wanted rank 2 \[N,K\]$/);
    expect(() => softmax(tensor([], [0, 3], 'cpu'))).toThrow(/^softmax: the number of rows of logits must be a positive integer, got 0$/);
  });

  it('rejects a label smoothing outside [0, 1), in one line', () => {
    for (const bad of [-0.1, 1, NaN]) {
      expect(() => softmaxCrossEntropy(z(), tensor([0, 1, 2, 0], [4], 'cpu'), null, bad)).toThrow(new RegExp(`^softmaxCrossEntropy: labelSmoothing must be in \\[0, 1\\), got ${bad}$`));
    }
  });

  it('rejects disposed tensors, in one line', () => {
    const logits = z();
    const labels = tensor([0, 1, 2, 0], [4], 'cpu');
    labels.dispose();
    expect(() => softmaxCrossEntropy(logits, labels)).toThrow(/^softmaxCrossEntropy: labels \[4\] was disposed$/);
    logits.dispose();
    expect(() => softmax(logits)).toThrow(/^softmax: logits \[4,3\] was disposed$/);
  });

  it.skipIf(!gpu)('refuses operands on different backends', () => {
    expect(() => softmaxCrossEntropy(tensor(randomArray(12), [4, 3], 'webgpu'), tensor([0, 1, 2, 0], [4], 'cpu'))).toThrow(
      /^softmaxCrossEntropy: labels is on cpu but logits is on webgpu$/,
    );
  });
});
