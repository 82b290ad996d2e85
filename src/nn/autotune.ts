import { gpuOf } from '../backend/webgpu/backend.ts';
import { autotuneConv, type ConvShape, type TuneResult } from '../ops/conv2d-tune.ts';
import type { Sequential } from './sequential.ts';

/**
 * Autotunes the convolution kernels of a model on WebGPU at batch `batch` (src/ops/conv2d-tune.ts):
 * the forward and both backward passes of every convolution (the passes a model runs), each
 * shape once per adapter. Nothing to do on the CPU backends or on a software adapter, which has
 * a measured table. Fit calls it before the first step; inference code may call it before timing.
 */
export async function autotuneConvolutions(model: Sequential, batch: number, o: { force?: boolean; training?: boolean } = {}): Promise<TuneResult[]> {
  if (model.backend !== 'webgpu') return [];
  const first = model.params()[0];
  if (!first) return [];
  const gpu = gpuOf(first.value);
  if (gpu.info.software && !o.force) return [];
  const shapes: ConvShape[] = [];
  const seen = new Set<string>();
  model.layers.forEach((layer, i) => {
    for (const use of layer.kernels([batch, ...model.shapes[i]])) {
      if (!use.conv) continue;
      const key = JSON.stringify(use.conv);
      if (seen.has(key)) continue;
      seen.add(key);
      shapes.push(use.conv);
    }
  });
  const passes = o.training === false ? (['forward'] as const) : (['forward', 'backward-input', 'backward-filter'] as const);
  return autotuneConv(gpu, shapes, { passes: [...passes], force: o.force });
}
