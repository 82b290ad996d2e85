import type { WasmBackend } from './backend.ts';

// Batch normalization on the WebAssembly kernels (elementwise.wat): the sums per channel and
// the per-element passes run there; the few numbers per channel are computed here, in float64
// as in the specification (src/ops/batchnorm.ts, whose formulas these are).

/** x viewed as [N, C, S]; addresses are byte offsets in the backend's memory. */
export interface ChannelGeometry {
  N: number;
  C: number;
  S: number;
}

/**
 * Training forward: mean and biased variance per channel (two passes), then
 * y = gamma·invStd·(x − mean) + beta; mean and invStd out, running statistics updated.
 */
export function batchNormTrainWasm(
  be: WasmBackend, g: ChannelGeometry, x: number, y: number,
  gamma: Float32Array, beta: Float32Array, runningMean: Float32Array, runningVar: Float32Array,
  eps: number, momentum: number, mean: Float32Array, invStd: Float32Array,
): void {
  const k = be.kernels;
  const M = g.N * g.S;
  for (let c = 0; c < g.C; c++) {
    const m = k.chan_dot(x, 0, g.N, g.C, g.S, c, 0, 0) / M;
    const v = k.chan_dot(x, x, g.N, g.C, g.S, c, m, m) / M;
    const inv = 1 / Math.sqrt(v + eps);
    k.chan_affine(0, x, y, g.N, g.C, g.S, c, 0, gamma[c] * inv, m, beta[c]);
    mean[c] = m;
    invStd[c] = inv;
    runningMean[c] = momentum * runningMean[c] + (1 - momentum) * m;
    runningVar[c] = momentum * runningVar[c] + (1 - momentum) * v * (M / (M - 1));
  }
}

/** Inference: y = gamma/sqrt(runningVar + eps)·(x − runningMean) + beta. */
export function batchNormInferWasm(
  be: WasmBackend, g: ChannelGeometry, x: number, y: number,
  gamma: Float32Array, beta: Float32Array, runningMean: Float32Array, runningVar: Float32Array, eps: number,
): void {
  for (let c = 0; c < g.C; c++) {
    be.kernels.chan_affine(0, x, y, g.N, g.C, g.S, c, 0, gamma[c] / Math.sqrt(runningVar[c] + eps), runningMean[c], beta[c]);
  }
}

/**
 * dbeta = Σ dy, dgamma = Σ dy·x̂ = invStd·Σ dy·(x − mean), and
 * dx = gamma·invStd/M·(M·dy − dbeta − x̂·dgamma) = k1·dy + k2·(x − mean) + k3 per channel.
 */
export function batchNormBackwardWasm(
  be: WasmBackend, g: ChannelGeometry, x: number, dy: number, dx: number,
  gamma: Float32Array, mean: Float32Array, invStd: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
): void {
  const k = be.kernels;
  const M = g.N * g.S;
  for (let c = 0; c < g.C; c++) {
    const sdy = k.chan_dot(dy, 0, g.N, g.C, g.S, c, 0, 0);
    const dg = k.chan_dot(dy, x, g.N, g.C, g.S, c, 0, mean[c]) * invStd[c];
    const gi = gamma[c] * invStd[c];
    const k2 = (-gi * invStd[c] * dg) / M;
    dbeta[c] = sdy;
    dgamma[c] = dg;
    k.chan_affine(dy, x, dx, g.N, g.C, g.S, c, gi, k2, mean[c], (-gi * sdy) / M);
  }
}
