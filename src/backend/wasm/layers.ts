import type { WasmBackend } from './backend.ts';
import { JOB } from './drivers.ts';

// The memory-bound layers on the WebAssembly kernels (elementwise.wat), split over the threads:
// ReLU by runs of values, max-pooling by planes, batch norm by channels. The formulas are the
// specification's (src/ops/batchnorm.ts); the per-channel numbers are computed by the drivers
// in float64, the sums accumulated in f64 by the kernels, as the specification does.

/** Below this many values a layer stays on the calling thread (a hand-off costs microseconds). */
const PARALLEL_MIN_VALUES = 1 << 16;

function run(be: WasmBackend, values: number, pieces: number, p: Int32Array): void {
  const parts = values < PARALLEL_MIN_VALUES ? 1 : Math.max(1, Math.min(be.threadCount, pieces));
  be.run(p, parts);
}

/** A number's float32 bits as an i32, for a job's parameter list. */
function bits(v: number): number {
  return new Int32Array(Float32Array.of(v).buffer)[0];
}

/** x viewed as [N, C, S]; addresses are byte offsets in the backend's memory. */
export interface ChannelGeometry {
  N: number;
  C: number;
  S: number;
}

export function reluWasm(be: WasmBackend, x: number, y: number, n: number): void {
  run(be, n, n >> 2, Int32Array.of(JOB.relu, x, y, n));
}

export function reluBackwardWasm(be: WasmBackend, y: number, dy: number, dx: number, n: number): void {
  run(be, n, n >> 2, Int32Array.of(JOB.reluBackward, y, dy, dx, n));
}

/** 2×2 windows at stride 2 over `planes` planes of H×W; dy = 0: forward into y, else backward into dx. */
export function maxPool2x2Wasm(be: WasmBackend, x: number, y: number, planes: number, H: number, W: number, dy: number, dx: number): void {
  run(be, planes * H * W, planes, Int32Array.of(JOB.maxPool, x, y, planes, H, W, dy, dx));
}

/**
 * Training forward: mean and biased variance per channel (two passes), then
 * y = gamma·invStd·(x − mean) + beta; mean and invStd out, running statistics updated here.
 */
export function batchNormTrainWasm(
  be: WasmBackend, g: ChannelGeometry, x: number, y: number,
  gamma: number, beta: number, runningMean: Float32Array, runningVar: Float32Array,
  eps: number, momentum: number, mean: number, invStd: number,
): void {
  const M = g.N * g.S;
  const variance = be.scratch(4 * g.C);
  try {
    run(be, M * g.C, g.C, Int32Array.of(JOB.batchNormTrain, x, y, g.N, g.C, g.S, gamma, beta, mean, invStd, variance, bits(eps)));
    const m = be.heap.f32(mean, g.C);
    const v = be.heap.f32(variance, g.C);
    for (let c = 0; c < g.C; c++) {
      runningMean[c] = momentum * runningMean[c] + (1 - momentum) * m[c];
      runningVar[c] = momentum * runningVar[c] + (1 - momentum) * v[c] * (M / (M - 1));
    }
  } finally {
    be.free(variance, 4 * g.C);
  }
}

/** Inference: y = gamma/sqrt(runningVar + eps)·(x − runningMean) + beta. */
export function batchNormInferWasm(
  be: WasmBackend, g: ChannelGeometry, x: number, y: number,
  gamma: number, beta: number, runningMean: number, runningVar: number, eps: number,
): void {
  run(be, g.N * g.S * g.C, g.C, Int32Array.of(JOB.batchNormInfer, x, y, g.N, g.C, g.S, gamma, beta, runningMean, runningVar, bits(eps)));
}

/**
 * dbeta = Σ dy, dgamma = Σ dy·x̂ = invStd·Σ dy·(x − mean), and
 * dx = gamma·invStd/M·(M·dy − dbeta − x̂·dgamma) = k1·dy + k2·(x − mean) + k3 per channel.
 */
export function batchNormBackwardWasm(
  be: WasmBackend, g: ChannelGeometry, x: number, dy: number, dx: number,
  gamma: number, mean: number, invStd: number, dgamma: number, dbeta: number,
): void {
  run(be, g.N * g.S * g.C, g.C, Int32Array.of(JOB.batchNormBackward, x, dy, dx, g.N, g.C, g.S, gamma, mean, invStd, dgamma, dbeta));
}
