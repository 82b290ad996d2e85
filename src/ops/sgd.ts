import sgdWgsl from '../../shaders/sgd.wgsl';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { FerError } from '../backend/errors.ts';
import type { Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';
import { checkRange, checkUpdateTensors } from './optimizer-args.ts';

// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, in
// PyTorch's formulation (torch.optim.SGD without dampening):
//   g = grad + weightDecay·param
//   v = momentum·v + g                  (v starts at 0, so the first step has v = g)
//   plain:    param −= lr·v             (lr·g without momentum)
//   nesterov: param −= lr·(g + momentum·v)
// Note the velocity accumulates gradients, not lr-scaled steps (Keras and Sutskever et al. store
// lr·v instead); the two agree while lr is constant.

export interface SgdOptions {
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

function resolve(o: SgdOptions): Required<SgdOptions> {
  const r = { lr: o.lr, momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 };
  checkRange('sgdUpdate', 'lr', r.lr, 0);
  checkRange('sgdUpdate', 'momentum', r.momentum, 0, 1);
  checkRange('sgdUpdate', 'weightDecay', r.weightDecay, 0);
  if (r.nesterov && r.momentum === 0) throw new FerError('sgdUpdate: nesterov needs momentum > 0, got momentum 0');
  return r;
}

// ---- CPU reference ----

export function sgdRef(param: Floats, grad: Floats, velocity: Floats | null, o: Required<SgdOptions>): void {
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] + o.weightDecay * param[i];
    if (o.momentum === 0) {
      param[i] -= o.lr * g;
      continue;
    }
    const v = o.momentum * velocity![i] + g;
    velocity![i] = v;
    param[i] -= o.lr * (o.nesterov ? g + o.momentum * v : v);
  }
}

// ---- WebGPU ----

const KERNEL: Kernel = { key: 'sgd', code: sgdWgsl, bindings: ['read', 'write', 'write'] };

/** `maxPerDim` is lowered only by tests, to force the 2-D grid. */
export function sgdGpu(param: Tensor, grad: Tensor, velocity: Tensor | null, o: Required<SgdOptions>, maxPerDim = 65535): void {
  const gpu = gpuOf(param);
  const mode = o.momentum === 0 ? 0 : o.nesterov ? 2 : 1;
  const params = packParams([u32(param.size), u32(mode), f32(o.lr), f32(o.momentum), f32(o.weightDecay)]);
  const v = mode === 0 ? gpu.placeholder : velocity!;
  gpu.run(KERNEL, [grad, param, v], params, grid1d(param.size, 256, maxPerDim), true);
}

// ---- the op ----

/** Updates param (and velocity) in place. velocity is required when momentum > 0 and unused otherwise. */
export function sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, opts: SgdOptions): void {
  const o = resolve(opts);
  checkUpdateTensors('sgdUpdate', param, { grad, velocity });
  if (o.momentum > 0 && !velocity) throw new FerError(`sgdUpdate: velocity is required when momentum > 0 (momentum ${o.momentum})`);
  const spec = (): void => { sgdRef(cpuData(param), cpuData(grad), velocity && cpuData(velocity), o); };
  byBackend(param, { cpu: spec, wasm: spec, webgpu: () => { sgdGpu(param, grad, o.momentum > 0 ? velocity : null, o); } });
}
