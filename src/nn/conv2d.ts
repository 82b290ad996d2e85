import { tensor } from '../backend/create.ts';
import { keep } from '../backend/scope.ts';
import type { Random } from '../backend/random.ts';
import type { BackendName, Shape, Tensor } from '../backend/tensor.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dGeometry, type Padding } from '../ops/conv2d.ts';
import { sumChannels } from '../ops/reduce.ts';
import { reluBackward } from '../ops/relu.ts';
import { conv2dUses, reluUses, sumChannelsUse, type KernelUse } from '../ops/kernel-use.ts';
import { glorotUniform, Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type Param, type ParamShape } from './layer.ts';

export interface Conv2DOptions {
  filters: number;
  kernelSize: number;
  stride?: number;
  padding?: Padding;
  activation?: 'relu' | null;
}

/** Conv2D as Keras has it, weights stored [K, C, R, S] (filters, channels, rows, columns). */
export class Conv2D extends Layer {
  readonly type = 'Conv2D';
  readonly kerasName = 'conv2d';
  readonly opts: Required<Conv2DOptions>;
  weight: Param | null = null;
  bias: Param | null = null;
  #x: Tensor | null = null;
  #y: Tensor | null = null;

  constructor(opts: Conv2DOptions) {
    super();
    this.opts = { stride: 1, padding: 'valid', activation: null, ...opts };
  }

  #geometry(input: Shape) {
    const { filters, kernelSize, stride, padding } = this.opts;
    return conv2dGeometry([1, ...input], [filters, input[0], kernelSize, kernelSize], { stride, padding });
  }

  outputShape(input: Shape): Shape {
    const g = this.#geometry(input);
    return [g.K, g.OH, g.OW];
  }

  override build(input: Shape, rng: Random, backend: BackendName): void {
    const { filters: K, kernelSize: R } = this.opts;
    const C = input[0];
    const w = glorotUniform(K * C * R * R, C * R * R, K * R * R, rng);
    this.weight = { name: `${this.name}.weight`, value: keep(tensor(w, [K, C, R, R], backend)), grad: null, trainable: true, decay: true };
    this.bias = { name: `${this.name}.bias`, value: keep(tensor(new Float32Array(K), [K], backend)), grad: null, trainable: true, decay: false };
  }

  override params(): Param[] {
    return [need(this.weight, this, 'weight'), need(this.bias, this, 'bias')];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const { stride, padding, activation } = this.opts;
    // The relu rides in the convolution's store step: one pass instead of two, the same values.
    const y = conv2d(x, need(this.weight, this, 'weight').value, this.bias!.value, { stride, padding, relu: activation === 'relu' });
    if (ctx.training) {
      this.#x = x;
      this.#y = y;
    }
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = need(this.#x, this, 'input');
    const { stride, padding, activation } = this.opts;
    const dz = activation === 'relu' ? reluBackward(need(this.#y, this, 'output'), dy) : dy;
    const w = this.weight!;
    w.grad = conv2dBackwardFilter(x, dz, w.value.shape, { stride, padding });
    this.bias!.grad = sumChannels(dz);
    const dx = needInputGrad ? conv2dBackwardInput(dz, w.value, x.shape, { stride, padding }) : null;
    this.clearCache();
    return dx;
  }

  override clearCache(): void {
    this.#x = null;
    this.#y = null;
  }

  config(): LayerConfig {
    return { type: this.type, ...this.opts };
  }

  paramShapes(input: Shape): ParamShape[] {
    const { filters: K, kernelSize: R } = this.opts;
    return [{ role: 'weight', shape: [K, input[0], R, R], trainable: true }, { role: 'bias', shape: [K], trainable: true }];
  }

  /** The product with its relu in the store step; training adds the relu's backward, both gradients and the bias sum. */
  kernels(x: Shape): KernelUse[] {
    const { filters, kernelSize, stride, padding, activation } = this.opts;
    const g = this.#geometry(x.slice(1));
    const y = [x[0], g.K, g.OH, g.OW];
    const relu = activation === 'relu';
    return [
      ...conv2dUses(x, [filters, x[1], kernelSize, kernelSize], { stride, padding }, relu, x[0]),
      ...(relu ? reluUses(y, false) : []),
      sumChannelsUse(y),
    ];
  }

  how(): string {
    const relu = this.opts.activation === 'relu' ? '; the relu is applied in the same kernel as each output is stored' : '';
    // Which kernel computes it (the direct one or the implicit GEMM) depends on the adapter: the
    // explorer appends the one its kernel plan chose.
    return `each output is its filter times the image patch under it${relu}`;
  }

  keras(): KerasLayer {
    const { filters, kernelSize, stride, padding, activation } = this.opts;
    return { factory: 'conv2d', options: { filters, kernelSize, strides: stride, padding, activation: activation ?? 'linear' } };
  }

  override macs(input: Shape): number {
    const g = this.#geometry(input);
    return g.K * g.OH * g.OW * g.C * g.R * g.S;
  }
}
