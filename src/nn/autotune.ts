import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { autotuneConv, type ConvShape, type TuneResult } from '../ops/conv2d-tune.ts';
import type { ConvPass } from '../ops/conv2d-webgpu.ts';
import type { Sequential } from './sequential.ts';

/**
 * Autotunes the convolution kernels of a model on `gpu` at batch `batch` (src/ops/conv2d-tune.ts):
 * the forward pass of every convolution, and with `training` both backward passes too, each
 * shape once per adapter. The model need not be built (only its layer shapes are used). Nothing
 * is timed on a software adapter, which has a measured table, unless `force`.
 */
export async function autotuneModelConvs(
  gpu: WebGpuBackend, model: Sequential, batch: number, o: { force?: boolean; training?: boolean } = {},
): Promise<TuneResult[]> {
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
  const passes: ConvPass[] = o.training === false ? ['forward'] : ['forward', 'backward-input', 'backward-filter'];
  return autotuneConv(gpu, shapes, { passes, force: o.force });
}

/** Fit's call: a built model on WebGPU has its convolutions tuned for training at `batch`; elsewhere nothing happens. */
export async function autotuneConvolutions(model: Sequential, batch: number): Promise<TuneResult[]> {
  const first = model.params()[0];
  if (model.backend !== 'webgpu' || !first) return [];
  return autotuneModelConvs(gpuOf(first.value), model, batch, { training: true });
}
