// The kernels `fer kernels` times: every op a model's training step runs, at the shapes of its
// layers for one batch size, each distinct (kernel, shape) once.
import type { Sequential } from '../nn/sequential.ts';
import { optimizerUses, softmaxCrossEntropyUse, type KernelUse } from '../ops/kernel-use.ts';

export { MIN_TRAIN_VALUES, type Prepared } from '../ops/kernel-use.ts';

/** A layer's kernel (Layer.kernels) with the names of every layer that runs it at this shape. */
export interface KernelCase extends KernelUse {
  layers: string[];
}

/**
 * Every kernel of `model`'s training step at batch size `batch`, in layer order, each distinct
 * (kernel, shape) once with the names of all the layers that share it. The model need not be
 * built: only its layer shapes are used.
 */
export function kernelCases(model: Sequential, batch: number): KernelCase[] {
  const out = new Map<string, KernelCase>();
  const add = (cases: KernelCase[]) => {
    for (const c of cases) {
      const key = `${c.kernel}|${c.shape}`;
      const seen = out.get(key);
      if (seen) seen.layers.push(...c.layers.filter((l) => !seen.layers.includes(l)));
      else out.set(key, c);
    }
  };
  model.layers.forEach((layer, i) => add(layer.kernels([batch, ...model.shapes[i]]).map((k) => ({ ...k, layers: [layer.name] }))));
  add([{ ...softmaxCrossEntropyUse(batch, model.classes.length), layers: ['loss'] }]);
  add(optimizerUses(trainableParams(model)).map((k) => ({ ...k, layers: ['all trainable'] })));
  return [...out.values()];
}

/** Weights and biases the optimizer updates (batch norm's running statistics are not). */
export function trainableParams(model: Sequential): number {
  return model.layers.reduce(
    (n, layer, i) => n + layer.paramShapes(model.shapes[i]).reduce((m, p) => m + (p.trainable ? p.shape.reduce((a, b) => a * b, 1) : 0), 0),
    0,
  );
}

/**
 * Whole-model FLOPs per batch, counting the GEMMs only: the layers whose plan has a
 * compute-bound kernel (convolutions and dense layers), 2 per multiply-add.
 */
export function modelFlops(model: Sequential, batch: number, mode: 'forward' | 'train'): number {
  let flops = 0;
  model.layers.forEach((layer, i) => {
    const plan = layer.kernels([batch, ...model.shapes[i]]);
    if (!plan.some((k) => k.cost.bound === 'compute')) return;
    const forward = 2 * layer.macs(model.shapes[i]) * batch;
    // Training adds the weight and input gradients, each a product of the same size; the first
    // layer's input gradient is not computed.
    const backward = plan.filter((k) => k.training && !k.inference && k.cost.bound === 'compute' && !(i === 0 && k.inputGradient)).length;
    flops += mode === 'forward' ? forward : forward * (1 + backward);
  });
  return flops;
}
