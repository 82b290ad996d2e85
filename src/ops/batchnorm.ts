import batchnormWgsl from '../../shaders/batchnorm.wgsl';
import { checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { addressOf, wasmOf } from '../backend/wasm/backend.ts';
import { batchNormBackwardWasm, batchNormInferWasm, batchNormTrainWasm } from '../backend/wasm/layers.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { formatShape, type Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, withConstants, type Kernel } from '../backend/webgpu/kernel.ts';

// Batch normalization. x is [N,C] (after a dense layer) or [N,C,H,W] (after a conv); channel c
// is normalised over its M = N·H·W values:
//   training:  y = gamma·(x − mean)·invStd + beta, mean and biased variance var of the batch,
//              invStd = 1/sqrt(var + eps); the running statistics move towards the batch's:
//                running_mean = momentum·running_mean + (1 − momentum)·mean
//                running_var  = momentum·running_var  + (1 − momentum)·var·M/(M − 1)
//              The running variance takes the UNBIASED variance, as PyTorch does (Keras takes the
//              biased one; the two differ by a factor M/(M − 1), negligible at M in the thousands).
//   inference: y = gamma·(x − running_mean)/sqrt(running_var + eps) + beta.
// Defaults as Keras: eps 1e-3, momentum 0.99.

export interface BatchNormOptions {
  /** Added to the variance under the square root (default 1e-3, as Keras). */
  eps?: number;
  /** Weight of the old running statistics in each update (default 0.99, as Keras). */
  momentum?: number;
}

/** x viewed as [N, C, S]: S = H·W, or 1 for [N,C]; M = N·S values per channel. */
export interface BatchNormGeometry {
  N: number;
  C: number;
  S: number;
  M: number;
}

// ---- shapes and options ----

function geometry(op: string, x: Tensor, perChannel: Record<string, Tensor>): BatchNormGeometry {
  if (x.shape.length !== 2 && x.shape.length !== 4) {
    throw new FerError(`${op}: x has shape ${formatShape(x.shape)}, wanted rank 2 [N,C] or rank 4 [N,C,H,W]`);
  }
  const [N, C] = x.shape;
  const S = x.shape.length === 4 ? x.shape[2] * x.shape[3] : 1;
  for (const [name, t] of Object.entries(perChannel)) checkShape(op, name, t, [C], 'one per channel of x');
  return { N, C, S, M: N * S };
}

function resolve(op: string, o: BatchNormOptions): Required<BatchNormOptions> {
  const r = { eps: o.eps ?? 1e-3, momentum: o.momentum ?? 0.99 };
  if (!(r.eps > 0 && Number.isFinite(r.eps))) throw new FerError(`${op}: eps must be a positive number, got ${r.eps}`);
  if (!(r.momentum >= 0 && r.momentum <= 1)) throw new FerError(`${op}: momentum must be in [0, 1], got ${r.momentum}`);
  return r;
}

/** The running statistics are written in place, on the GPU in one dispatch: they must be two buffers. */
function checkDistinct(op: string, runningMean: Tensor, runningVar: Tensor): void {
  if (runningMean.storage === runningVar.storage) throw new FerError(`${op}: runningMean and runningVar are the same tensor, wanted two`);
}

// ---- CPU reference ----

const at = (g: BatchNormGeometry, c: number, n: number, s: number) => (n * g.C + c) * g.S + s;

/** mean[c] and the biased variance var[c] = Σ(x − mean)²/M, in two passes over the channel. */
export function batchNormStatsRef(g: BatchNormGeometry, x: Floats, mean: Floats, variance: Floats): void {
  for (let c = 0; c < g.C; c++) {
    let sum = 0;
    for (let n = 0; n < g.N; n++) for (let s = 0; s < g.S; s++) sum += x[at(g, c, n, s)];
    const m = sum / g.M;
    let sq = 0;
    for (let n = 0; n < g.N; n++) for (let s = 0; s < g.S; s++) sq += (x[at(g, c, n, s)] - m) ** 2;
    mean[c] = m;
    variance[c] = sq / g.M;
  }
}

/** y = gamma·(x − mean)·inv + beta, channel by channel. */
function applyRef(g: BatchNormGeometry, x: Floats, mean: ArrayLike<number>, inv: ArrayLike<number>, gamma: Floats, beta: Floats, y: Floats): void {
  for (let c = 0; c < g.C; c++) {
    for (let n = 0; n < g.N; n++) {
      for (let s = 0; s < g.S; s++) {
        const i = at(g, c, n, s);
        y[i] = gamma[c] * (x[i] - mean[c]) * inv[c] + beta[c];
      }
    }
  }
}

/** Training forward: y, mean and invStd out; runningMean and runningVar updated in place. */
export function batchNormTrainRef(
  g: BatchNormGeometry,
  x: Floats,
  gamma: Floats,
  beta: Floats,
  runningMean: Floats,
  runningVar: Floats,
  o: Required<BatchNormOptions>,
  y: Floats,
  mean: Floats,
  invStd: Floats,
): void {
  const m = new Float64Array(g.C);
  const v = new Float64Array(g.C);
  batchNormStatsRef(g, x, m, v);
  const inv = m.map((_, c) => 1 / Math.sqrt(v[c] + o.eps));
  applyRef(g, x, m, inv, gamma, beta, y);
  for (let c = 0; c < g.C; c++) {
    mean[c] = m[c];
    invStd[c] = inv[c];
    runningMean[c] = o.momentum * runningMean[c] + (1 - o.momentum) * m[c];
    runningVar[c] = o.momentum * runningVar[c] + (1 - o.momentum) * v[c] * (g.M / (g.M - 1));
  }
}

export function batchNormInferRef(g: BatchNormGeometry, x: Floats, gamma: Floats, beta: Floats, runningMean: Floats, runningVar: Floats, eps: number, y: Floats): void {
  const inv = Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + eps));
  applyRef(g, x, runningMean, inv, gamma, beta, y);
}

/**
 * With x̂ = (x − mean)·invStd, per channel: dbeta = Σ dy, dgamma = Σ dy·x̂ and
 * dx = gamma·invStd/M·(M·dy − dbeta − x̂·dgamma), the gradient through the batch statistics too.
 */
export function batchNormBackwardRef(
  g: BatchNormGeometry,
  x: Floats,
  dy: Floats,
  gamma: Floats,
  mean: Floats,
  invStd: Floats,
  dx: Floats,
  dgamma: Floats,
  dbeta: Floats,
): void {
  for (let c = 0; c < g.C; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let n = 0; n < g.N; n++) {
      for (let s = 0; s < g.S; s++) {
        const i = at(g, c, n, s);
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - mean[c]) * invStd[c];
      }
    }
    dbeta[c] = sdy;
    dgamma[c] = sdyx;
    for (let n = 0; n < g.N; n++) {
      for (let s = 0; s < g.S; s++) {
        const i = at(g, c, n, s);
        const xhat = (x[i] - mean[c]) * invStd[c];
        dx[i] = ((gamma[c] * invStd[c]) / g.M) * (g.M * dy[i] - sdy - xhat * sdyx);
      }
    }
  }
}

// ---- WebGPU ----

/**
 * Invocations per channel in the two per-channel reductions (a power of two, 32 to 256).
 * Software adapters get 32: on SwiftShader it was the fastest at every batch-norm shape of the
 * seed and small models (bench/batchnorm.ts, batch 8, two runs on a busy CPU: statistics 3–17 ms
 * against 71–107 ms for 256 at [8,128,23,23], 7–9 ms against 186–317 ms at [8,512]), since there
 * the cost follows invocations and barriers, not loads. Hardware GPUs get 256, to keep more
 * loads in flight per channel (not measured: no hardware GPU was at hand), but no more than the
 * power of two ≥ M, so a dense layer's few values per channel do not leave most invocations idle.
 */
export function batchNormWorkgroup(software: boolean, M: number): number {
  if (software) return 32;
  let wg = 32;
  while (wg < 256 && wg < M) wg *= 2;
  return wg;
}

/** The elementwise entry points do not use WG; they compile from one variant of the module. */
const ELEMENTWISE = 256;

/**
 * Whether the kernels read x (and dy) as vec4: the reductions four values per step
 * (stats4, backward_reduce4) and the elementwise passes four elements per invocation (apply4,
 * backward_dx4). They can when every channel's S values hold whole vec4s (S a multiple of 4, as
 * 46×46 and 12×12; not 23×23, 11×11 or a dense layer's S = 1).
 */
export function batchNormVec4(g: BatchNormGeometry): boolean {
  return g.S % 4 === 0;
}

/** The elementwise entry point and its grid: `entry` or `entry4` over size or size/4 invocations. */
function elementwise(entry: 'apply' | 'backward_dx', size: number, vec4: boolean): { entry: string; grid: [number, number, number] } {
  return vec4 ? { entry: `${entry}4`, grid: grid1d(size / 4, 256) } : { entry, grid: grid1d(size, 256) };
}

function kernel(entry: string, bindings: Kernel['bindings'], wg: number): Kernel {
  return { key: `batchnorm.${entry}.wg${wg}`, code: withConstants(batchnormWgsl, { WG: wg }), entry, bindings };
}

function params(g: BatchNormGeometry, eps: number, momentum: number, fromVar: boolean): Uint8Array {
  return packParams([u32(g.N), u32(g.C), u32(g.S), f32(eps), f32(momentum), u32(fromVar ? 1 : 0)]);
}

function checkVec4(g: BatchNormGeometry, vec4: boolean): void {
  if (vec4 && !batchNormVec4(g)) throw new Error(`batchnorm: vec4 asked with S = ${g.S}, not a multiple of 4`);
}

function checkWorkgroup(wg: number): void {
  if (![32, 64, 128, 256].includes(wg)) throw new Error(`batchnorm: workgroup size ${wg} is not 32, 64, 128 or 256`);
}

/** Two dispatches: per-channel statistics (and the running update), then the elementwise normalisation. */
export function batchNormTrainGpu(
  g: BatchNormGeometry,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  o: Required<BatchNormOptions>,
  y: Tensor,
  mean: Tensor,
  invStd: Tensor,
  wg = batchNormWorkgroup(gpuOf(x).info.software, g.M),
  vec4 = batchNormVec4(g),
): void {
  checkWorkgroup(wg);
  checkVec4(g, vec4);
  const gpu = gpuOf(x);
  const p = params(g, o.eps, o.momentum, false);
  gpu.run(kernel(vec4 ? 'stats4' : 'stats', ['read', 'write', 'write', 'write', 'write'], wg), [x, runningMean, runningVar, mean, invStd], p, grid1d(g.C, 1));
  const { entry, grid } = elementwise('apply', y.size, vec4);
  gpu.run(kernel(entry, ['read', 'read', 'read', 'read', 'read', 'write'], ELEMENTWISE), [x, mean, invStd, gamma, beta, y], p, grid);
}

export function batchNormInferGpu(
  g: BatchNormGeometry, x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, eps: number, y: Tensor,
  vec4 = batchNormVec4(g),
): void {
  checkVec4(g, vec4);
  const { entry, grid } = elementwise('apply', y.size, vec4);
  gpuOf(x).run(kernel(entry, ['read', 'read', 'read', 'read', 'read', 'write'], ELEMENTWISE), [x, runningMean, runningVar, gamma, beta, y], params(g, eps, 0, true), grid);
}

/** Two dispatches: per-channel dgamma and dbeta, then the elementwise dx that needs them. */
export function batchNormBackwardGpu(
  g: BatchNormGeometry,
  x: Tensor,
  dy: Tensor,
  gamma: Tensor,
  mean: Tensor,
  invStd: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  dbeta: Tensor,
  wg = batchNormWorkgroup(gpuOf(x).info.software, g.M),
  vec4 = batchNormVec4(g),
): void {
  checkWorkgroup(wg);
  checkVec4(g, vec4);
  const gpu = gpuOf(x);
  const p = params(g, 0, 0, false);
  gpu.run(kernel(vec4 ? 'backward_reduce4' : 'backward_reduce', ['read', 'read', 'read', 'read', 'write', 'write'], wg), [x, dy, mean, invStd, dgamma, dbeta], p, grid1d(g.C, 1));
  const { entry, grid } = elementwise('backward_dx', dx.size, vec4);
  const dxKernel = kernel(entry, ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'write'], ELEMENTWISE);
  gpu.run(dxKernel, [x, dy, gamma, mean, invStd, dgamma, dbeta, dx], p, grid);
}

// ---- the ops ----

/**
 * Normalises x with the batch's mean and biased variance and updates runningMean and runningVar
 * IN PLACE (the variance unbiased, as PyTorch). Returns y and, for batchNormBackward, the batch
 * mean and invStd = 1/sqrt(var + eps), each [C].
 */
export function batchNormTrain(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions = {},
): { y: Tensor; mean: Tensor; invStd: Tensor } {
  const op = 'batchNormTrain';
  checkTensors(op, { x, gamma, beta, runningMean, runningVar });
  const o = resolve(op, opts);
  const g = geometry(op, x, { gamma, beta, runningMean, runningVar });
  checkDistinct(op, runningMean, runningVar);
  if (g.M < 2) throw new FerError(`${op}: x ${formatShape(x.shape)} has ${g.M} value per channel, wanted at least 2 to estimate a variance`);
  const y = empty(x.shape, x.backend);
  const mean = empty([g.C], x.backend);
  const invStd = empty([g.C], x.backend);
  const d = cpuData;
  const spec = (): void => batchNormTrainRef(g, d(x), d(gamma), d(beta), d(runningMean), d(runningVar), o, d(y), d(mean), d(invStd));
  const wasm = (): void =>
    batchNormTrainWasm(wasmOf(x), g, addressOf(x), addressOf(y), addressOf(gamma), addressOf(beta), d(runningMean), d(runningVar), o.eps, o.momentum, addressOf(mean), addressOf(invStd));
  byBackend(x, { cpu: spec, wasm, webgpu: () => batchNormTrainGpu(g, x, gamma, beta, runningMean, runningVar, o, y, mean, invStd) });
  return { y, mean, invStd };
}

/** Normalises x with the running statistics (inference); nothing is updated. */
export function batchNormInfer(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions = {}): Tensor {
  const op = 'batchNormInfer';
  checkTensors(op, { x, gamma, beta, runningMean, runningVar });
  const o = resolve(op, opts);
  const g = geometry(op, x, { gamma, beta, runningMean, runningVar });
  const y = empty(x.shape, x.backend);
  const spec = (): void => { batchNormInferRef(g, cpuData(x), cpuData(gamma), cpuData(beta), cpuData(runningMean), cpuData(runningVar), o.eps, cpuData(y)); };
  const d = cpuData;
  const wasm = (): void => batchNormInferWasm(wasmOf(x), g, addressOf(x), addressOf(y), addressOf(gamma), addressOf(beta), addressOf(runningMean), addressOf(runningVar), o.eps);
  byBackend(x, { cpu: spec, wasm, webgpu: () => { batchNormInferGpu(g, x, gamma, beta, runningMean, runningVar, o.eps, y); } });
  return y;
}

/** Gradients of a training-mode batchNormTrain, given its x, mean and invStd and the output gradient dy. */
export function batchNormBackward(x: Tensor, dy: Tensor, gamma: Tensor, mean: Tensor, invStd: Tensor): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const op = 'batchNormBackward';
  checkTensors(op, { x, dy, gamma, mean, invStd });
  const g = geometry(op, x, { gamma, mean, invStd });
  checkShape(op, 'dy', dy, x.shape, 'like x');
  const dx = empty(x.shape, x.backend);
  const dgamma = empty([g.C], x.backend);
  const dbeta = empty([g.C], x.backend);
  const d = cpuData;
  const spec = (): void => batchNormBackwardRef(g, d(x), d(dy), d(gamma), d(mean), d(invStd), d(dx), d(dgamma), d(dbeta));
  const wasm = (): void =>
    batchNormBackwardWasm(wasmOf(x), g, addressOf(x), addressOf(dy), addressOf(dx), addressOf(gamma), addressOf(mean), addressOf(invStd), addressOf(dgamma), addressOf(dbeta));
  byBackend(x, { cpu: spec, wasm, webgpu: () => batchNormBackwardGpu(g, x, dy, gamma, mean, invStd, dx, dgamma, dbeta) });
  return { dx, dgamma, dbeta };
}
