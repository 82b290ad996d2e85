import reluWgsl from '../../shaders/relu.wgsl';
import { checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { addressOf, wasmOf } from '../backend/wasm/backend.ts';
import { reluBackwardWasm, reluWasm } from '../backend/wasm/layers.ts';
import { empty } from '../backend/create.ts';
import type { Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';

// ---- CPU reference: the specification ----

export function reluRef(x: Floats, y: Floats): void {
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

/** Gradient of relu, masked by the forward output (y > 0 exactly where x > 0). */
export function reluBackwardRef(y: Floats, dy: Floats, dx: Floats): void {
  for (let i = 0; i < y.length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

// ---- WebGPU ----

const FORWARD: Kernel = { key: 'relu.forward', code: reluWgsl, entry: 'forward', bindings: ['read', 'write'] };
const BACKWARD: Kernel = { key: 'relu.backward', code: reluWgsl, entry: 'backward', bindings: ['read', 'read', 'write'] };

// ---- the op ----

export function relu(x: Tensor): Tensor {
  checkTensors('relu', { x });
  const y = empty(x.shape, x.backend);
  const spec = (): void => { reluRef(cpuData(x), cpuData(y)); };
  byBackend(x, { cpu: spec, wasm: () => reluWasm(wasmOf(x), addressOf(x), addressOf(y), x.size), webgpu: () => { gpuOf(x).run(FORWARD, [x, y], packParams([u32(x.size)]), grid1d(x.size, 256)); } });
  return y;
}

export function reluBackward(y: Tensor, dy: Tensor): Tensor {
  checkTensors('reluBackward', { y, dy });
  checkShape('reluBackward', 'dy', dy, y.shape, 'like the forward output');
  const dx = empty(y.shape, y.backend);
  const spec = (): void => { reluBackwardRef(cpuData(y), cpuData(dy), cpuData(dx)); };
  byBackend(y, { cpu: spec, wasm: () => reluBackwardWasm(wasmOf(y), addressOf(y), addressOf(dy), addressOf(dx), y.size), webgpu: () => { gpuOf(y).run(BACKWARD, [y, dy, dx], packParams([u32(y.size)]), grid1d(y.size, 256)); } });
  return dx;
}
