import type { Floats } from '../backend/cpu.ts';
import { Random } from '../backend/random.ts';
import type { Samples } from './samples.ts';

/**
 * A one-vs-rest linear SVM trained by Pegasos-style SGD (Shalev-Shwartz et al. 2007) on the
 * primal objective of each class c against the rest,
 *
 *   L_c(w, b) = λ/2·‖w‖² + mean_i max(0, 1 − y_i·(w·x_i + b)),   y_i = +1 if label_i = c else −1,
 *
 * one example at a time in a seeded random order, all classes updated from the same example.
 * The bias is not regularised. Step size η_t = η₀ / (1 + η₀·λ·t) (Bottou's schedule: Pegasos's
 * 1/(λt) tamed at the start), with η₀ = 1 / mean ‖x‖², so the first steps move a margin by
 * about 1 whatever the scale of the features.
 *
 * The last iterate of SGD on data that no hyperplane separates keeps jumping (on FER2013 pixels
 * it scored 29–31% where the averaged weights score more), so the model returned is the
 * Polyak–Ruppert average of the iterates over the last epoch, sampled every AVERAGE_EVERY
 * examples (sampling costs far less than averaging after every step and smooths as well).
 */
export interface LinearSvm {
  classes: number;
  dim: number;
  /** classes × dim, row c the weights of class c against the rest. */
  w: Float64Array;
  b: Float64Array;
}

export interface SvmTrainOptions {
  lambda: number;
  epochs: number;
  seed: number;
  classes: number;
  onEpoch?: (epoch: number, marginViolations: number) => void;
}

/** One example's objective λ/2·‖w‖² + max(0, 1 − y·(w·x + b)): what hingeGradient differentiates. */
export function hingeObjective(w: Floats, b: number, x: Floats, y: number, lambda: number): number {
  let norm = 0;
  let score = b;
  for (let i = 0; i < w.length; i++) {
    norm += w[i] * w[i];
    score += w[i] * x[i];
  }
  return (lambda / 2) * norm + Math.max(0, 1 - y * score);
}

/** Its (sub)gradient: λw − y·x and −y for the bias where the margin y·(w·x + b) is below 1, else λw and 0. */
export function hingeGradient(w: Floats, b: number, x: Floats, y: number, lambda: number): { w: Float64Array; b: number } {
  let score = b;
  for (let i = 0; i < w.length; i++) score += w[i] * x[i];
  const active = y * score < 1;
  const g = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) g[i] = lambda * w[i] - (active ? y * x[i] : 0);
  return { w: g, b: active ? -y : 0 };
}

/**
 * One SGD step w ← w − η·∇ on one example, in place, in a single pass over w after the score.
 * Returns the new bias. Same arithmetic as hingeGradient, without allocating it.
 */
export function pegasosStep(w: Floats, b: number, x: Floats, xOffset: number, y: number, eta: number, lambda: number): number {
  const n = w.length;
  let score = b;
  for (let i = 0; i < n; i++) score += w[i] * x[xOffset + i];
  const shrink = 1 - eta * lambda;
  if (y * score < 1) {
    const push = eta * y;
    for (let i = 0; i < n; i++) w[i] = shrink * w[i] + push * x[xOffset + i];
    return b + push;
  }
  for (let i = 0; i < n; i++) w[i] *= shrink;
  return b;
}

const AVERAGE_EVERY = 16;

export function trainLinearSvm(s: Samples, o: SvmTrainOptions): LinearSvm {
  const { dim, count } = s;
  const model: LinearSvm = { classes: o.classes, dim, w: new Float64Array(o.classes * dim), b: new Float64Array(o.classes) };
  let squares = 0;
  for (let i = 0; i < count * dim; i++) squares += s.x[i] * s.x[i];
  const eta0 = count > 0 && squares > 0 ? count / squares : 1;
  const rows = model.classes;
  const weights = Array.from({ length: rows }, (_, c) => model.w.subarray(c * dim, (c + 1) * dim));
  const order = new Uint32Array(count).map((_, i) => i);
  const random = new Random(o.seed);
  const avgW = new Float64Array(model.w.length);
  const avgB = new Float64Array(rows);
  let samples = 0;
  let t = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    random.shuffle(order);
    let violations = 0;
    for (let n = 0; n < count; n++) {
      const i = order[n];
      const eta = eta0 / (1 + eta0 * o.lambda * t++);
      for (let c = 0; c < rows; c++) {
        const y = s.labels[i] === c ? 1 : -1;
        const before = model.b[c];
        model.b[c] = pegasosStep(weights[c], before, s.x, i * dim, y, eta, o.lambda);
        if (model.b[c] !== before) violations++;
      }
      if (epoch === o.epochs && (n + 1) % AVERAGE_EVERY === 0) {
        for (let j = 0; j < avgW.length; j++) avgW[j] += model.w[j];
        for (let c = 0; c < rows; c++) avgB[c] += model.b[c];
        samples++;
      }
    }
    o.onEpoch?.(epoch, violations);
  }
  if (samples > 0) {
    for (let j = 0; j < avgW.length; j++) model.w[j] = avgW[j] / samples;
    for (let c = 0; c < rows; c++) model.b[c] = avgB[c] / samples;
  }
  return model;
}

/** The class with the highest score w_c·x + b_c for each row. */
export function svmPredictClasses(model: LinearSvm, x: Float32Array, count: number): Uint8Array {
  const { dim, classes } = model;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = model.b[c];
      for (let k = 0; k < dim; k++) s += model.w[c * dim + k] * x[i * dim + k];
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}
