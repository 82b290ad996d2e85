import { describe, expect, it } from 'vitest';
import { randomFourierFeatures, randomMaclaurinFeatures } from '../../src/baseline/features.ts';
import { samples, type Samples } from '../../src/baseline/samples.ts';
import { fitStandardizer, standardize } from '../../src/baseline/standardize.ts';
import { svmPredict, type SvmOptions } from '../../src/baseline/svm-pipeline.ts';
import { hingeGradient, hingeObjective, pegasosStep, svmPredictClasses, trainLinearSvm } from '../../src/baseline/svm.ts';
import { expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray, randomInt, rng, TEST_SEED } from '../support/random.ts';

const accuracy = (pred: ArrayLike<number>, labels: ArrayLike<number>) => Array.from(pred).filter((p, i) => p === labels[i]).length / labels.length;

/** Three well-separated clusters in 5-D: each class is linearly separable from the rest. */
function clusters(count: number, next: () => number): Samples {
  const centres = [[4, 0, 0, 0, 0], [-4, 4, 0, 0, 0], [-4, -4, 0, 0, 0]];
  const labels = Array.from({ length: count }, () => Math.floor(next() * 3));
  const x = new Float32Array(count * 5);
  labels.forEach((c, i) => centres[c].forEach((v, k) => (x[i * 5 + k] = v + (next() - 0.5))));
  return samples(x, labels, 5);
}

/** XOR: the class is whether x₁ and x₂ have the same sign; no line separates it. */
function xor(count: number, next: () => number): Samples {
  const x = Float32Array.from({ length: count * 2 }, () => 2 * next() - 1);
  const labels = Array.from({ length: count }, (_, i) => (x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0));
  return samples(x, labels, 2);
}

describe('hinge loss and the SGD step', () => {
  for (const active of [true, false]) {
    it(`gradient matches finite differences in float64 (${active ? 'inside the margin' : 'outside it'})`, () => {
      const n = 12;
      const x = toF64(randomArray(n));
      const w = toF64(randomArray(n, -0.2, 0.2));
      const y = randomInt(0, 1) === 0 ? -1 : 1;
      let score = 0;
      for (let i = 0; i < n; i++) score += w[i] * x[i];
      // A bias that puts the margin y·(w·x + b) at 0.5 or 1.5: away from the kink at 1, where
      // the loss is smooth and central differences are exact to O(h²).
      const b = (active ? 0.5 : 1.5) * y - score;
      const lambda = 0.3;
      const g = hingeGradient(w, b, x, y, lambda);
      expectGradient('hinge dw', w, (v) => hingeObjective(v, b, x, y, lambda), g.w);
      const db = (hingeObjective(w, b + 1e-5, x, y, lambda) - hingeObjective(w, b - 1e-5, x, y, lambda)) / 2e-5;
      expect(Math.abs(g.b - db)).toBeLessThan(1e-6);
      expect(g.b).toBe(active ? -y : 0);
    });
  }

  it('one step is w − η·gradient, worked by hand', () => {
    // w = (1, −2), b = 0.5, x = (1, 1), y = +1: score −0.5, margin −0.5 < 1, so
    // w ← (1 − ηλ)·w + η·y·x = 0.9·(1, −2) + 0.5·(1, 1) = (1.4, −1.3), b ← 0.5 + 0.5 = 1 (η = 0.5, λ = 0.2).
    const w = new Float64Array([1, -2]);
    expect(pegasosStep(w, 0.5, new Float64Array([1, 1]), 0, 1, 0.5, 0.2)).toBeCloseTo(1, 12);
    expect(w[0]).toBeCloseTo(1.4, 12);
    expect(w[1]).toBeCloseTo(-1.3, 12);
    // Outside the margin only the shrink acts: x = (−3, 0), y = −1: score −4.2 + 1 = −3.2, margin 3.2 ≥ 1,
    // so w ← 0.9·(1.4, −1.3) and b stays.
    const b = pegasosStep(w, 1, new Float64Array([-3, 0]), 0, -1, 0.5, 0.2);
    expect(b).toBe(1);
    expect(w[0]).toBeCloseTo(1.26, 12);
    expect(w[1]).toBeCloseTo(-1.17, 12);
  });

  it('the step equals the gradient step on random data (reads x at an offset)', () => {
    const n = 9;
    const x = toF64(randomArray(n + 4));
    const w = toF64(randomArray(n));
    const b = 0.1;
    for (const y of [1, -1]) {
      const g = hingeGradient(w, b, x.subarray(4), y, 0.05);
      const stepped = w.slice();
      const nb = pegasosStep(stepped, b, x, 4, y, 0.3, 0.05);
      expect(nb).toBeCloseTo(b - 0.3 * g.b, 12);
      stepped.forEach((v, i) => expect(v).toBeCloseTo(w[i] - 0.3 * g.w[i], 12));
    }
  });
});

describe('one-vs-rest linear SVM', () => {
  it('separates linearly separable clusters perfectly, on the training set and on fresh points', () => {
    const next = rng(TEST_SEED);
    const train = clusters(150, next);
    const test = clusters(60, next);
    const model = trainLinearSvm(train, { lambda: 1e-3, epochs: 10, seed: 3, classes: 3 });
    expect(accuracy(svmPredictClasses(model, train.x, train.count), train.labels)).toBe(1);
    expect(accuracy(svmPredictClasses(model, test.x, test.count), test.labels)).toBe(1);
  });

  it('the same seed gives the same model bit for bit; another seed another model', () => {
    const train = clusters(80, rng(TEST_SEED));
    const o = { lambda: 1e-2, epochs: 3, seed: 11, classes: 3 };
    const a = trainLinearSvm(train, o);
    const b = trainLinearSvm(train, o);
    const c = trainLinearSvm(train, { ...o, seed: 12 });
    expect(Array.from(b.w)).toEqual(Array.from(a.w));
    expect(Array.from(b.b)).toEqual(Array.from(a.b));
    expect(Array.from(c.w)).not.toEqual(Array.from(a.w));
  });
});

describe('kernel feature maps', () => {
  it('random Fourier features approximate the RBF kernel', async () => {
    // Each z(x)·z(y) is a mean of D terms 2·cos(w·x + b)·cos(w·y + b) = cos(w·(x − y)) + cos(w·(x + y) + 2b),
    // whose second moment is at most 1 + 1/2, so its standard error is at most sqrt(1.5/D) ≈ 0.0061
    // for D = 40000: 0.035 is over 5 of them.
    const D = 40_000;
    const gamma = 0.4;
    const map = randomFourierFeatures(3, D, gamma, 7, 'cpu');
    const x = randomArray(6 * 3);
    const z = await map.apply(x, 6);
    map.dispose();
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        let dot = 0;
        let dist = 0;
        for (let d = 0; d < D; d++) dot += z[i * D + d] * z[j * D + d];
        for (let k = 0; k < 3; k++) dist += (x[i * 3 + k] - x[j * 3 + k]) ** 2;
        expect(Math.abs(dot - Math.exp(-gamma * dist))).toBeLessThan(0.035);
      }
    }
  });

  it('random Maclaurin features approximate the polynomial kernel', async () => {
    // Degree 2, γ = 0.5, c = 1, inputs in [−0.55, 0.55]³ so ‖x'‖² = 0.5‖x‖² + 1 ≤ 1.45. Each term is
    // (w₁·x')(w₁·y')·(w₂·x')(w₂·y') with independent Rademacher w₁, w₂, and E[(w·a)²(w·b)²] ≤ 3‖a‖²‖b‖²,
    // so its second moment is at most 9·1.45⁴ ≈ 40 and the mean of D = 40000 terms has standard
    // error at most sqrt(40/D) ≈ 0.032; 0.16 is 5 of them.
    const D = 40_000;
    const map = randomMaclaurinFeatures(3, D, 2, 0.5, 1, 5, 'cpu');
    const x = randomArray(5 * 3, -0.55, 0.55);
    const z = await map.apply(x, 5);
    map.dispose();
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let dot = 0;
        let xy = 0;
        for (let d = 0; d < D; d++) dot += z[i * D + d] * z[j * D + d];
        for (let k = 0; k < 3; k++) xy += x[i * 3 + k] * x[j * 3 + k];
        expect(Math.abs(dot - (0.5 * xy + 1) ** 2)).toBeLessThan(0.16);
      }
    }
  });

  it('RBF features solve XOR, which the linear SVM cannot', async () => {
    const next = rng(TEST_SEED);
    const train = xor(400, next);
    const test = xor(200, next);
    const o: SvmOptions = { kernel: 'linear', features: 300, gamma: 2, degree: 2, lambda: 1e-3, epochs: 10, seed: 2, classes: 2, backend: 'cpu' };
    const linear = accuracy(await svmPredict(train, test, o), test.labels);
    const rbf = accuracy(await svmPredict(train, test, { ...o, kernel: 'rbf' }), test.labels);
    // A line through the XOR square classifies at most about 3/4 of uniform points right.
    expect(linear).toBeLessThan(0.8);
    expect(rbf).toBeGreaterThan(0.92);
  });

  it('the whole pipeline replays exactly with the same seed', async () => {
    const next = rng(TEST_SEED);
    const train = xor(100, next);
    const test = xor(50, next);
    const o: SvmOptions = { kernel: 'poly', features: 64, gamma: 1, degree: 2, lambda: 1e-3, epochs: 2, seed: 9, classes: 2, backend: 'cpu' };
    expect(Array.from(await svmPredict(train, test, o))).toEqual(Array.from(await svmPredict(train, test, o)));
  });

  it('standardization uses the training statistics and leaves a constant column centred', () => {
    const x = Float32Array.from([1, 5, 3, 5, 5, 5]);
    const s = fitStandardizer(x, 3, 2);
    const out = standardize(x, 3, 2, s);
    expect(Array.from(out).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-1.224745, 0, 0, 0, 1.224745, 0]);
    expect(Array.from(standardize(Float32Array.from([3, 6]), 1, 2, s))).toEqual([0, 1]);
  });
});
