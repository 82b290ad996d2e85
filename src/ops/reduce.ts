import reduceWgsl from '../../shaders/reduce.wgsl';
import { checkPositiveInt, checkRank, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { formatShape, type Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';

// Reductions: per-channel sums (bias gradients), the sum of everything, and the row argmax
// (predicted classes).

// ---- CPU reference ----

/** x viewed as [N, C, S]: out[c] = Σ_n Σ_s x[n, c, s]. */
export function sumChannelsRef(x: Floats, N: number, C: number, S: number, out: Floats): void {
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < S; k++) s += x[(n * C + c) * S + k];
    out[c] = s;
  }
}

export function sumAllRef(x: Floats, out: Floats): void {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  out[0] = s;
}

/** out[i] = index of the largest x[i, ·]; the first one on ties. */
export function argmaxRowsRef(x: Floats, N: number, K: number, out: Floats): void {
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (x[i * K + k] > x[i * K + best]) best = k;
    out[i] = best;
  }
}

// ---- WebGPU ----

const SUM: Kernel = { key: 'reduce.sum_channels', code: reduceWgsl, entry: 'sum_channels', bindings: ['read', 'write'] };
const ARGMAX: Kernel = { key: 'reduce.argmax_rows', code: reduceWgsl, entry: 'argmax_rows', bindings: ['read', 'write'] };

function sumGpu(x: Tensor, out: Tensor, N: number, C: number, S: number): void {
  // one workgroup per channel
  gpuOf(x).run(SUM, [x, out], packParams([u32(N), u32(C), u32(S)]), grid1d(C, 1));
}

// ---- the ops ----

/** x [N,C] or [N,C,H,W] → [C]: the sum over every axis but 1 (bias gradients). */
export function sumChannels(x: Tensor): Tensor {
  checkTensors('sumChannels', { x });
  if (x.shape.length !== 2 && x.shape.length !== 4) {
    throw new FerError(`sumChannels: x has shape ${formatShape(x.shape)}, wanted rank 2 [N,C] or rank 4 [N,C,H,W]`);
  }
  const [N, C] = x.shape;
  const S = x.shape.length === 4 ? x.shape[2] * x.shape[3] : 1;
  const out = empty([C], x.backend);
  const spec = (): void => { sumChannelsRef(cpuData(x), N, C, S, cpuData(out)); };
  byBackend(x, { cpu: spec, wasm: spec, webgpu: () => { sumGpu(x, out, N, C, S); } });
  return out;
}

/** Any shape → [1]: the sum of all elements. */
export function sumAll(x: Tensor): Tensor {
  checkTensors('sumAll', { x });
  const out = empty([1], x.backend);
  const spec = (): void => { sumAllRef(cpuData(x), cpuData(out)); };
  byBackend(x, { cpu: spec, wasm: spec, webgpu: () => { sumGpu(x, out, 1, 1, x.size); } });
  return out;
}

/** [N,K] → [N]: the index of each row's maximum as float32; the first maximum wins on ties. */
export function argmaxRows(x: Tensor): Tensor {
  checkTensors('argmaxRows', { x });
  checkRank('argmaxRows', 'x', x, 2, '[N,K]');
  const [N, K] = x.shape;
  checkPositiveInt('argmaxRows', 'the row length of x', K);
  const out = empty([N], x.backend);
  const spec = (): void => { argmaxRowsRef(cpuData(x), N, K, cpuData(out)); };
  byBackend(x, { cpu: spec, wasm: spec, webgpu: () => { gpuOf(x).run(ARGMAX, [x, out], packParams([u32(N), u32(K), u32(1)]), grid1d(N, 64)); } });
  return out;
}
