import { FerError } from '../backend/errors.ts';
import type { Shape, Tensor } from '../backend/tensor.ts';
import { conv2d, conv2dGeometry, type Padding } from '../ops/conv2d.ts';
import { matmul } from '../ops/matmul.ts';
import { conv2dUses, matmulUse, type KernelUse } from '../ops/kernel-use.ts';
import { Layer, type ForwardContext, type LayerConfig, type Param, type ParamShape } from './layer.ts';

// Inference-only layers that foldForInference (fold.ts) makes: a Conv2D or Dense, its relu and
// the batch norm after it, as one op with an epilogue (src/ops/epilogue.ts):
//   y = act(x ⋆ w + b)·scale[c] + shift[c],  scale = γ/√(var+ε), shift = β − mean·scale.
// They have no backward: training keeps the unfolded model, whose parameters these copy.

/** The fused weights: the layer's own weight and bias, and the batch norm as scale/shift (or none). */
export interface FusedTensors {
  weight: Tensor;
  bias: Tensor;
  affine: { scale: Tensor; shift: Tensor } | null;
}

abstract class FusedLayer extends Layer {
  readonly #params: Param[];

  constructor(
    readonly relu: boolean,
    t: FusedTensors,
    /** The names of the layers folded in, for summaries. */
    readonly folded: string[],
  ) {
    super();
    const p = (value: Tensor): Param => ({ name: '', value, grad: null, trainable: false, decay: false });
    this.#params = [p(t.weight), p(t.bias), ...(t.affine ? [p(t.affine.scale), p(t.affine.shift)] : [])];
  }

  override build(): void {
    const roles = ['weight', 'bias', 'scale', 'shift'];
    this.#params.forEach((p, i) => (p.name = `${this.name}.${roles[i]}`));
  }

  override params(): Param[] {
    return this.#params;
  }

  /** The current tensors (moveTo replaces the Params' values). */
  protected get tensors(): { weight: Tensor; bias: Tensor; scale: Tensor | null; shift: Tensor | null } {
    const [w, b, s, t] = this.#params;
    return { weight: w.value, bias: b.value, scale: s?.value ?? null, shift: t?.value ?? null };
  }

  protected refuseTraining(ctx: ForwardContext): void {
    if (ctx.training) throw new FerError(`${this.name}: a layer folded for inference cannot train (train the unfolded model)`);
  }

  backward(): Tensor | null {
    throw new FerError(`${this.name}: a layer folded for inference has no backward (train the unfolded model)`);
  }

  /** The copied tensors, whatever the input (they were made before this layer). */
  paramShapes(): ParamShape[] {
    const roles = ['weight', 'bias', 'scale', 'shift'];
    return this.#params.map((p, i) => ({ role: roles[i], shape: p.value.shape, trainable: false }));
  }

  /** No peer builds a folded model: the peers run the layers as trained. */
  keras(): null {
    return null;
  }

  protected epilogue(): string {
    const steps = [this.relu ? 'the relu' : '', this.tensors.scale ? "the batch norm's scale and shift" : ''].filter(Boolean).join(' and ');
    return steps ? `; ${steps} are applied in the same kernel as each output is stored` : '';
  }
}

/** Conv2D (+ relu) (+ BatchNorm in inference mode) as one conv2d dispatch. */
export class FusedConv2D extends FusedLayer {
  readonly type = 'FusedConv2D';
  readonly kerasName = 'fusedconv2d';

  constructor(
    readonly conv: { stride: number; padding: Padding },
    relu: boolean,
    t: FusedTensors,
    folded: string[],
  ) {
    super(relu, t, folded);
  }

  #geometry(input: Shape) {
    return conv2dGeometry([1, ...input], this.tensors.weight.shape, this.conv);
  }

  outputShape(input: Shape): Shape {
    const g = this.#geometry(input);
    return [g.K, g.OH, g.OW];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.refuseTraining(ctx);
    const { weight, bias, scale, shift } = this.tensors;
    return conv2d(x, weight, bias, { ...this.conv, relu: this.relu, scale, shift });
  }

  config(): LayerConfig {
    return { type: this.type, ...this.conv, relu: this.relu, folded: this.folded };
  }

  kernels(x: Shape): KernelUse[] {
    const use = conv2dUses(x, this.tensors.weight.shape, this.conv, this.relu, x[0])[0];
    return [{ ...use, training: false }];
  }

  how(): string {
    return `folded from ${this.folded.join(', ')}: each output is its filter times the image patch under it${this.epilogue()}`;
  }

  override macs(input: Shape): number {
    const g = this.#geometry(input);
    return g.K * g.OH * g.OW * g.C * g.R * g.S;
  }
}

/** Dense (+ relu) (+ BatchNorm in inference mode) as one matmul dispatch. */
export class FusedDense extends FusedLayer {
  readonly type = 'FusedDense';
  readonly kerasName = 'fuseddense';

  outputShape(input: Shape): Shape {
    const [units, inputs] = this.tensors.weight.shape;
    if (input.length !== 1 || input[0] !== inputs) throw new FerError(`${this.name}: wanted a flat input of ${inputs}, got [${input}]`);
    return [units];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    this.refuseTraining(ctx);
    const { weight, bias, scale, shift } = this.tensors;
    return matmul(x, weight, { transB: true, bias, relu: this.relu, scale, shift });
  }

  config(): LayerConfig {
    return { type: this.type, relu: this.relu, folded: this.folded };
  }

  kernels(x: Shape): KernelUse[] {
    const w = this.tensors.weight.shape;
    return [matmulUse('matmul.forward', x, w, { transB: true, relu: this.relu }, true, { inference: true, training: false })];
  }

  how(): string {
    return `y = x·Wᵀ + b folded from ${this.folded.join(', ')}: matmul.wgsl addresses the operands${this.epilogue()}`;
  }

  override macs(input: Shape): number {
    return input[0] * this.tensors.weight.shape[0];
  }
}
