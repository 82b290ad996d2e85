import adamWgsl from '../../shaders/adam.wgsl';
import { checkPositiveInt } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { FerError } from '../backend/errors.ts';
import type { Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';
import { checkRange, checkUpdateTensors } from './optimizer-args.ts';

// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), in Keras' arrangement:
//   g = grad (+ weightDecay·param for Adam's L2 decay)
//   m = β1·m + (1−β1)·g,   v = β2·v + (1−β2)·g²
//   param −= lr_t · m / (√v + ε)       lr_t = lr·√(1−β2^t)/(1−β1^t), t the 1-based step
// which is lr·m̂/(√v̂ + ε̂) with ε̂ = ε/√(1−β2^t): ε is added to √v, not to √v̂ as PyTorch does;
// the two differ only while √v is comparable to ε (default 1e-7, Keras').
// AdamW instead shrinks param by (1 − lr·weightDecay) each step, leaving g alone (as PyTorch and
// Keras do, with the scheduled lr, not lr_t).

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding weightDecay·param to the gradient. */
  decoupled?: boolean;
}

/** One step's numbers, with everything that depends on the step count worked out in float64. */
export interface AdamCoefficients {
  beta1: number;
  beta2: number;
  eps: number;
  stepSize: number;
  l2: number;
  shrink: number;
}

export function adamCoefficients(step: number, opts: AdamOptions): AdamCoefficients {
  const op = 'adamUpdate';
  checkPositiveInt(op, 'step', step);
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-7, weightDecay = 0, decoupled = false } = opts;
  checkRange(op, 'lr', lr, 0);
  checkRange(op, 'beta1', beta1, 0, 1);
  checkRange(op, 'beta2', beta2, 0, 1);
  checkRange(op, 'weightDecay', weightDecay, 0);
  if (!(Number.isFinite(eps) && eps > 0)) throw new FerError(`${op}: eps must be a finite number > 0, got ${eps}`);
  return {
    beta1,
    beta2,
    eps,
    stepSize: (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step),
    l2: decoupled ? 0 : weightDecay,
    shrink: decoupled ? 1 - lr * weightDecay : 1,
  };
}

// ---- CPU reference ----

export function adamRef(param: Floats, grad: Floats, m: Floats, v: Floats, c: AdamCoefficients): void {
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] + c.l2 * param[i];
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * g;
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g;
    param[i] = c.shrink * param[i] - (c.stepSize * m[i]) / (Math.sqrt(v[i]) + c.eps);
  }
}

// ---- WebGPU ----

const KERNEL: Kernel = { key: 'adam', code: adamWgsl, bindings: ['read', 'write', 'write', 'write'] };

/** `maxPerDim` is lowered only by tests, to force the 2-D grid. */
export function adamGpu(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, c: AdamCoefficients, maxPerDim = 65535): void {
  const params = packParams([u32(param.size), f32(c.beta1), f32(c.beta2), f32(c.eps), f32(c.stepSize), f32(c.l2), f32(c.shrink)]);
  gpuOf(param).run(KERNEL, [grad, param, m, v], params, grid1d(param.size, 256, maxPerDim), true);
}

// ---- the op ----

/** Updates param, m and v in place; step is 1-based (the first update is step 1). */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: number, opts: AdamOptions): void {
  const c = adamCoefficients(step, opts);
  checkUpdateTensors('adamUpdate', param, { grad, m, v });
  const spec = (): void => { adamRef(cpuData(param), cpuData(grad), cpuData(m), cpuData(v), c); };
  byBackend(param, { cpu: spec, wasm: spec, webgpu: () => { adamGpu(param, grad, m, v, c); } });
}
