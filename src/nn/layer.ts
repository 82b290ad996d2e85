import type { Random } from '../backend/random.ts';
import type { BackendName, Shape, Tensor } from '../backend/tensor.ts';

/** A tensor a layer owns: a weight (trainable) or a running statistic (not). */
export interface Param {
  /** Unique in the model: `<layer>.<role>`, e.g. `conv2d_1.weight`. */
  name: string;
  value: Tensor;
  /** Set by backward(), consumed by the optimizer, disposed with the step's scope. */
  grad: Tensor | null;
  trainable: boolean;
  /** Weight decay applies to kernels, not to biases or batch-norm scales. */
  decay: boolean;
}

export interface ForwardContext {
  training: boolean;
  /** Seeds dropout masks; required when training a model with Dropout. */
  rng?: Random;
}

/** What a layer writes into a model file: its type and constructor options. */
export interface LayerConfig {
  type: string;
  [option: string]: unknown;
}

/**
 * A layer computes forward on a batch, keeps what its backward needs while training, and in
 * backward turns the gradient of its output into the gradient of its input (null when the
 * caller says it is not needed), setting its parameters' gradients on the way.
 * Shapes passed to outputShape/build have no batch axis.
 */
export abstract class Layer {
  abstract readonly type: string;
  /** Keras-style unique name (`conv2d`, `conv2d_1`, …), given by the model. */
  name = '';

  abstract outputShape(input: Shape): Shape;

  /** Creates the parameters for this input shape. */
  build(_input: Shape, _rng: Random, _backend: BackendName): void {}

  params(): Param[] {
    return [];
  }

  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;

  abstract backward(dy: Tensor, needInputGrad: boolean): Tensor | null;

  abstract config(): LayerConfig;

  /** Multiply-adds per example. */
  macs(_input: Shape): number {
    return 0;
  }

  /** Forgets what forward kept for backward (the tensors themselves belong to the step's scope). */
  clearCache(): void {}
}

/** Glorot (Xavier) uniform, Keras's default for kernels: U(±sqrt(6 / (fanIn + fanOut))). */
export function glorotUniform(count: number, fanIn: number, fanOut: number, rng: Random): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const a = new Float32Array(count);
  for (let i = 0; i < count; i++) a[i] = rng.uniform(-limit, limit);
  return a;
}

export function need<T>(v: T | null, layer: Layer, what: string): T {
  if (v === null) throw new Error(`${layer.name}: backward() without a training forward() (no cached ${what})`);
  return v;
}
