import dropoutWgsl from '../../shaders/dropout.wgsl';
import { checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import type { Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';

// Inverted dropout: kept elements are scaled by 1/(1−rate) while training, so inference is the
// identity. The mask is never stored: it is a pure function of (seed, element index), computed
// the same way here and in shaders/dropout.wgsl, so both backends drop the same elements and
// backward regenerates it.

// ---- the mask ----

/** The PCG output permutation of a u32 (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul((state >>> ((state >>> 28) + 4)) ^ state, 277803737);
  return ((word >>> 22) ^ word) >>> 0;
}

/** An element is dropped when its hash falls below this, so the keep probability is 1 − rate (to 2⁻³²). */
export function dropThreshold(rate: number): number {
  return Math.floor(rate * 2 ** 32);
}

/** Scale of kept elements, rounded to float32 so both backends multiply by the same number. */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / (1 - rate));
}

export function dropoutKeep(seed: number, index: number, rate: number): boolean {
  return pcgHash((index + pcgHash(seed >>> 0)) >>> 0) >= dropThreshold(rate);
}

// ---- CPU reference: y = mask · scale · x; backward is the same map applied to dy ----

export function dropoutRef(x: Floats, y: Floats, rate: number, seed: number): void {
  const scale = dropoutScale(rate);
  for (let i = 0; i < x.length; i++) y[i] = dropoutKeep(seed, i, rate) ? x[i] * scale : 0;
}

export function dropoutBackwardRef(dy: Floats, dx: Floats, rate: number, seed: number): void {
  dropoutRef(dy, dx, rate, seed);
}

// ---- WebGPU ----

const KERNEL: Kernel = { key: 'dropout', code: dropoutWgsl, bindings: ['read', 'write'] };

/** Records y = dropout(x) on the GPU; `maxPerDim` is lowered only by tests, to force the 2-D grid. */
export function dropoutGpu(x: Tensor, y: Tensor, rate: number, seed: number, maxPerDim = 65535): void {
  const params = packParams([u32(x.size), u32(seed >>> 0), u32(dropThreshold(rate)), f32(dropoutScale(rate))]);
  // The seed changes every training step: transient, or each step would cache one more uniform buffer.
  gpuOf(x).run(KERNEL, [x, y], params, grid1d(x.size, 256, maxPerDim), true);
}

// ---- the ops ----

function checkArgs(op: string, rate: number, seed: number): void {
  if (!(rate >= 0 && rate < 1)) throw new FerError(`${op}: rate must be in [0, 1), got ${rate}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new FerError(`${op}: seed must be an integer in [0, 2^32), got ${seed}`);
  }
}

function apply(op: string, name: string, x: Tensor, rate: number, seed: number): Tensor {
  checkTensors(op, { [name]: x });
  checkArgs(op, rate, seed);
  const y = empty(x.shape, x.backend);
  const spec = (): void => { dropoutRef(cpuData(x), cpuData(y), rate, seed); };
  byBackend(x, { cpu: spec, wasm: spec, webgpu: () => { dropoutGpu(x, y, rate, seed); } });
  return y;
}

/** Drops each element with probability `rate` and scales the rest by 1/(1−rate). A new tensor, even for rate 0. */
export function dropout(x: Tensor, rate: number, seed: number): Tensor {
  return apply('dropout', 'x', x, rate, seed);
}

/** The input gradient: dy through the same mask and scale as the forward pass with this seed. */
export function dropoutBackward(dy: Tensor, rate: number, seed: number): Tensor {
  return apply('dropoutBackward', 'dy', dy, rate, seed);
}
