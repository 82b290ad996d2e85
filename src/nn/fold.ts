import { tensor } from '../backend/create.ts';
import { Random } from '../backend/random.ts';
import { keep } from '../backend/scope.ts';
import type { BackendName, Tensor } from '../backend/tensor.ts';
import { ReLU } from './activation.ts';
import { BatchNorm } from './batchnorm.ts';
import { Conv2D } from './conv2d.ts';
import { Dense } from './dense.ts';
import { FusedConv2D, FusedDense, type FusedTensors } from './fused-layers.ts';
import type { Layer } from './layer.ts';
import { layerFromConfig } from './layer-config.ts';
import { Sequential } from './sequential.ts';

// Batch-norm folding for inference. Both models put the batch norm AFTER the activation
// (Conv2D(relu) → BatchNorm, Dense(relu) → BatchNorm), so the textbook fold into the conv's
// weights (w·γ/σ) is wrong here: relu(z)·s + t ≠ relu(z·s + t) when t ≠ 0 or s < 0. Folding it into
// the NEXT layer instead is not exact either: through 'same' zero padding the padded zeros would
// have to be shifted too, and across a max-pool a negative scale does not commute with max. What
// is exact everywhere is to apply it in the producing layer's store step, after the relu:
//
//   y = relu(x ⋆ w + b)·scale[c] + shift[c],   scale = γ/√(var + ε),   shift = β − mean·scale
//
// with scale and shift computed once here (in float64) from the running statistics. Per folded
// pair, on the way out of the GEMM, this saves the separate relu pass and the batch-norm pass,
// each a read and a write of the whole activation (bench/NOTES.md).

/** A copy of t on its backend (the folded model must not share, and so not dispose, the original's tensors). */
async function copy(t: Tensor, backend: BackendName): Promise<Tensor> {
  return keep(tensor(await t.read(), t.shape, backend));
}

/** The batch norm's inference map x·scale + shift, from its running statistics. */
async function affineOf(bn: BatchNorm, backend: BackendName): Promise<{ scale: Tensor; shift: Tensor }> {
  const [gamma, beta, mean, variance] = await Promise.all(bn.params().map((p) => p.value.read()));
  const scale = new Float32Array(gamma.length);
  const shift = new Float32Array(gamma.length);
  for (let c = 0; c < gamma.length; c++) {
    const s = gamma[c] / Math.sqrt(variance[c] + bn.opts.eps);
    scale[c] = s;
    shift[c] = beta[c] - mean[c] * s;
  }
  return { scale: keep(tensor(scale, [scale.length], backend)), shift: keep(tensor(shift, [shift.length], backend)) };
}

/**
 * Conv2D or Dense WITHOUT activation → BatchNorm → ReLU (the `vgg` model's order): here the
 * textbook fold is exact, relu((x⋆w + b)·s + t) = relu(x⋆(w·s) + (b·s + t)), so the batch norm
 * goes into the weights (each output's row scaled by s, in float64) and the relu into the store.
 */
async function fuseIntoWeights(layer: Conv2D | Dense, bn: BatchNorm, relu: ReLU, backend: BackendName): Promise<Layer> {
  const [w, b] = layer.params();
  const [gamma, beta, mean, variance] = await Promise.all(bn.params().map((p) => p.value.read()));
  const weight = Float32Array.from(await w.value.read());
  const bias = Float32Array.from(await b.value.read());
  const per = weight.length / bias.length;
  for (let k = 0; k < bias.length; k++) {
    const s = gamma[k] / Math.sqrt(variance[k] + bn.opts.eps);
    for (let i = k * per; i < (k + 1) * per; i++) weight[i] = weight[i] * s;
    bias[k] = bias[k] * s + (beta[k] - mean[k] * s);
  }
  const t: FusedTensors = { weight: keep(tensor(weight, w.value.shape, backend)), bias: keep(tensor(bias, b.value.shape, backend)), affine: null };
  const folded = [layer.name, bn.name, relu.name];
  if (layer instanceof Conv2D) return new FusedConv2D({ stride: layer.opts.stride, padding: layer.opts.padding }, true, t, folded);
  return new FusedDense(true, t, folded);
}

async function fuse(layer: Conv2D | Dense, bn: BatchNorm | null, backend: BackendName): Promise<Layer> {
  const [w, b] = layer.params();
  const t: FusedTensors = { weight: await copy(w.value, backend), bias: await copy(b.value, backend), affine: bn ? await affineOf(bn, backend) : null };
  const relu = layer.opts.activation === 'relu';
  const folded = [layer.name, ...(bn ? [bn.name] : [])];
  if (layer instanceof Conv2D) return new FusedConv2D({ stride: layer.opts.stride, padding: layer.opts.padding }, relu, t, folded);
  return new FusedDense(relu, t, folded);
}

/**
 * An inference-only copy of a built model: every Conv2D and Dense, with its activation and a
 * BatchNorm right after it, becomes one fused layer (one dispatch); the other layers are copied
 * as they are. Same outputs as model.forward(x, { training: false }) up to float32 rounding; the
 * original is left untouched (training keeps using it), and the copy owns its own tensors
 * (dispose it on its own). Not for saving: model files hold the unfolded layers.
 */
export async function foldForInference(model: Sequential): Promise<Sequential> {
  const backend = model.backend;
  const layers: Layer[] = [];
  const copied: [Layer, Layer][] = [];
  for (let i = 0; i < model.layers.length; i++) {
    const l = model.layers[i];
    if (l instanceof Conv2D || l instanceof Dense) {
      const next = model.layers[i + 1];
      const bn = next instanceof BatchNorm ? next : null;
      const after = model.layers[i + 2];
      if (bn && l.opts.activation === null && after instanceof ReLU) {
        layers.push(await fuseIntoWeights(l, bn, after, backend));
        i += 2;
        continue;
      }
      layers.push(await fuse(l, bn, backend));
      if (bn) i++;
    } else {
      const c = layerFromConfig(l.config());
      layers.push(c);
      copied.push([l, c]);
    }
  }
  const folded = new Sequential(model.name, layers, model.inputShape, model.classes);
  // build() names the fused layers' tensors and gives the copied layers (a lone BatchNorm, say)
  // fresh parameters, which the original's values then replace.
  folded.build(new Random(0), backend);
  for (const [from, to] of copied) {
    const src = from.params();
    for (const [j, p] of to.params().entries()) {
      p.value.dispose();
      p.value = await copy(src[j].value, backend);
    }
  }
  return folded;
}
