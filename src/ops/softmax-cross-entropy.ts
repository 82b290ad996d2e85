import sceWgsl from '../../shaders/softmax_cross_entropy.wgsl';
import { checkPositiveInt, checkRank, checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import type { Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';

// Softmax over the K classes of each row, and the (optionally class-weighted) cross-entropy loss
// of logits [N,K] against labels [N] that hold class indices as float32:
//   loss = Σ_i w[y_i]·(−Σ_c q_ic·log softmax(z_i)[c]) / Σ_i w[y_i]      (no weights: the mean over rows)
//   dz_i = w[y_i]·(softmax(z_i) − q_i) / Σ_i w[y_i]
// where q_i is the target: onehot(y_i), or with label smoothing ε, (1 − ε)·onehot(y_i) + ε/K
// (Szegedy et al. 2016): the net is never pushed to make one logit infinitely larger.
// Both are computed stably: the row maximum is subtracted before exp, and log softmax is z − lse.

// ---- shapes and labels ----

function dims(op: string, logits: Tensor): { N: number; K: number } {
  checkRank(op, 'logits', logits, 2, '[N,K]');
  const [N, K] = logits.shape;
  checkPositiveInt(op, 'the number of rows of logits', N);
  checkPositiveInt(op, 'the number of classes of logits', K);
  return { N, K };
}

export function isClassIndex(y: number, K: number): boolean {
  return Number.isInteger(y) && y >= 0 && y < K;
}

// ---- CPU reference ----

export function softmaxRef(z: Floats, N: number, K: number, out: Floats): void {
  for (let i = 0; i < N; i++) {
    const row = i * K;
    let m = -Infinity;
    for (let c = 0; c < K; c++) m = Math.max(m, z[row + c]);
    let s = 0;
    for (let c = 0; c < K; c++) s += Math.exp(z[row + c] - m);
    for (let c = 0; c < K; c++) out[row + c] = Math.exp(z[row + c] - m) / s;
  }
}

/**
 * Writes dz and returns the loss. A label that is not a class index gets the weight NaN, so the
 * loss and every gradient come out NaN: the same as the GPU kernel (the op checks labels first).
 */
export function softmaxCrossEntropyRef(z: Floats, labels: Floats, weights: Floats | null, N: number, K: number, dz: Floats, smoothing = 0): number {
  const weightOf = (y: number) => (!isClassIndex(y, K) ? NaN : weights ? weights[y] : 1);
  let wsum = 0;
  for (let i = 0; i < N; i++) wsum += weightOf(labels[i]);
  const on = 1 - smoothing;
  const off = smoothing / K;
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const row = i * K;
    let m = -Infinity;
    let zsum = 0;
    for (let c = 0; c < K; c++) {
      m = Math.max(m, z[row + c]);
      zsum += z[row + c];
    }
    let s = 0;
    for (let c = 0; c < K; c++) s += Math.exp(z[row + c] - m);
    const lse = m + Math.log(s);
    const y = labels[i];
    const g = weightOf(y) / wsum;
    if (isClassIndex(y, K)) loss += g * (lse - on * z[row + y] - off * zsum);
    else loss = NaN;
    for (let c = 0; c < K; c++) dz[row + c] = g * (Math.exp(z[row + c] - lse) - ((c === y ? 1 : 0) * on + off));
  }
  return loss;
}

// ---- WebGPU ----

const SOFTMAX: Kernel = { key: 'sce.softmax', code: sceWgsl, entry: 'softmax', bindings: ['read', 'write'] };
const ROWS: Kernel = { key: 'sce.rows', code: sceWgsl, entry: 'rows', bindings: ['read', 'read', 'read', 'write', 'write'] };
const TOTAL: Kernel = { key: 'sce.total', code: sceWgsl, entry: 'total', bindings: ['read', 'write'] };

const NAN_BITS = 0x7fc00000;

function params(N: number, K: number, weighted: boolean, smoothing = 0): Uint8Array {
  return packParams([u32(N), u32(K), u32(weighted ? 1 : 0), u32(NAN_BITS), f32(smoothing)]);
}

// ---- the ops ----

/** Row-wise softmax of logits [N,K]: each row of the result sums to 1. */
export function softmax(logits: Tensor): Tensor {
  checkTensors('softmax', { logits });
  const { N, K } = dims('softmax', logits);
  const probs = empty([N, K], logits.backend);
  const spec = (): void => { softmaxRef(cpuData(logits), N, K, cpuData(probs)); };
  byBackend(logits, { cpu: spec, wasm: spec, webgpu: () => { gpuOf(logits).run(SOFTMAX, [logits, probs], params(N, K, false), grid1d(N, 64)); } });
  return probs;
}

/**
 * The loss [1] and its gradient with respect to the logits [N,K]. On the CPU a label that is not
 * an integer in [0, K) throws; a GPU kernel cannot report it, so there callers must validate
 * labels (the data loader does) and a bad one makes the loss and gradient NaN. `labelSmoothing`
 * ε in [0, 1) mixes ε/K of every class into each target.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  classWeights: Tensor | null = null,
  labelSmoothing = 0,
): { loss: Tensor; dlogits: Tensor } {
  const op = 'softmaxCrossEntropy';
  checkTensors(op, { logits, labels, classWeights });
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new FerError(`${op}: labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  const { N, K } = dims(op, logits);
  checkShape(op, 'labels', labels, [N], 'one class index per row of logits');
  if (classWeights) checkShape(op, 'classWeights', classWeights, [K], 'one weight per class');
  const loss = empty([1], logits.backend);
  const dlogits = empty([N, K], logits.backend);
  const spec = (): void => {
    const y = cpuData(labels);
    y.forEach((v, i) => {
      if (!isClassIndex(v, K)) throw new FerError(`${op}: labels[${i}] is ${v}, wanted an integer class index in 0..${K - 1}`);
    });
    const w = classWeights ? cpuData(classWeights) : null;
    cpuData(loss)[0] = softmaxCrossEntropyRef(cpuData(logits), y, w, N, K, cpuData(dlogits), labelSmoothing);
  };
  byBackend(logits, { cpu: spec, wasm: spec, webgpu: () => softmaxCrossEntropyGpu(logits, labels, classWeights, N, K, labelSmoothing, loss, dlogits) });
  return { loss, dlogits };
}

function softmaxCrossEntropyGpu(
  logits: Tensor, labels: Tensor, classWeights: Tensor | null, N: number, K: number, labelSmoothing: number, loss: Tensor, dlogits: Tensor,
): void {
  const gpu = gpuOf(logits);
  const shares = empty([N], logits.backend);
  const p = params(N, K, classWeights !== null, labelSmoothing);
  gpu.run(ROWS, [logits, labels, classWeights ?? gpu.placeholder, dlogits, shares], p, grid1d(N, 64));
  gpu.run(TOTAL, [shares, loss], p, [1]);
  // Later launches that reuse this buffer are recorded after TOTAL, so they run after it.
  shares.dispose();
}
