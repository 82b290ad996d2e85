import type { Random } from '../backend/random.ts';
import type { BackendName, Shape, Tensor } from '../backend/tensor.ts';
import type { KernelUse } from '../ops/kernel-use.ts';

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

/** A parameter build() will make, known from the input shape alone (no tensors). */
export interface ParamShape {
  role: string;
  shape: Shape;
  trainable: boolean;
}

/**
 * The Keras layer that computes the same function, as TensorFlow.js's `tf.layers` factory name
 * and options (the benchmark peers build their models from it); null where there is none.
 */
export interface KerasLayer {
  factory: string;
  options: Record<string, unknown>;
}

/**
 * A layer computes forward on a batch, keeps what its backward needs while training, and in
 * backward turns the gradient of its output into the gradient of its input (null when the
 * caller says it is not needed), setting its parameters' gradients on the way.
 * Shapes passed to outputShape/build have no batch axis.
 */
export abstract class Layer {
  abstract readonly type: string;
  /** Keras's base name for the type (`batch_normalization`); the model numbers it per layer. */
  abstract readonly kerasName: string;
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

  /** The parameters build() makes for this input shape, in params() order. */
  abstract paramShapes(input: Shape): ParamShape[];

  /**
   * Every dispatch this layer makes on a batch x [N, ...input], each saying whether inference,
   * training or both run it, with its cost and WGSL files: `fer kernels`, the explorer and the
   * model FLOP counts read this plan, so a layer that leaves out a kernel shows up there.
   */
  abstract kernels(x: Shape): KernelUse[];

  /** How the inference forward runs, in a sentence (the explorer; the GEMM loop is added there). */
  abstract how(): string;

  abstract keras(): KerasLayer | null;

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
