import { tensor } from '../backend/create.ts';
import { keep } from '../backend/scope.ts';
import { FerError } from '../backend/errors.ts';
import type { Random } from '../backend/random.ts';
import type { BackendName, Shape, Tensor } from '../backend/tensor.ts';
import { matmul } from '../ops/matmul.ts';
import { sumChannels } from '../ops/reduce.ts';
import { reluBackward } from '../ops/relu.ts';
import { denseUses, reluUses, sumChannelsUse, type KernelUse } from '../ops/kernel-use.ts';
import { glorotUniform, Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type Param, type ParamShape } from './layer.ts';

export interface DenseOptions {
  units: number;
  activation?: 'relu' | null;
}

/** A fully connected layer: y = x·Wᵀ + b, W stored [units, inputs] (PyTorch's layout). */
export class Dense extends Layer {
  readonly type = 'Dense';
  readonly kerasName = 'dense';
  readonly opts: Required<DenseOptions>;
  weight: Param | null = null;
  bias: Param | null = null;
  #x: Tensor | null = null;
  #y: Tensor | null = null;

  constructor(opts: DenseOptions) {
    super();
    this.opts = { activation: null, ...opts };
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 1) throw new FerError(`${this.name}: Dense needs a flat input, got [${input}] (add Flatten)`);
    return [this.opts.units];
  }

  override build(input: Shape, rng: Random, backend: BackendName): void {
    const n = input[0];
    const u = this.opts.units;
    this.weight = { name: `${this.name}.weight`, value: keep(tensor(glorotUniform(u * n, n, u, rng), [u, n], backend)), grad: null, trainable: true, decay: true };
    this.bias = { name: `${this.name}.bias`, value: keep(tensor(new Float32Array(u), [u], backend)), grad: null, trainable: true, decay: false };
  }

  override params(): Param[] {
    return [need(this.weight, this, 'weight'), need(this.bias, this, 'bias')];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    // The relu rides in the product's store step: one pass instead of two, the same values.
    const y = matmul(x, need(this.weight, this, 'weight').value, { transB: true, bias: this.bias!.value, relu: this.opts.activation === 'relu' });
    if (ctx.training) {
      this.#x = x;
      this.#y = y;
    }
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = need(this.#x, this, 'input');
    const dz = this.opts.activation === 'relu' ? reluBackward(need(this.#y, this, 'output'), dy) : dy;
    const w = this.weight!;
    w.grad = matmul(dz, x, { transA: true });
    this.bias!.grad = sumChannels(dz);
    const dx = needInputGrad ? matmul(dz, w.value) : null;
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

  override macs(input: Shape): number {
    return input[0] * this.opts.units;
  }

  paramShapes(input: Shape): ParamShape[] {
    const u = this.opts.units;
    return [{ role: 'weight', shape: [u, input[0]], trainable: true }, { role: 'bias', shape: [u], trainable: true }];
  }

  kernels(x: Shape): KernelUse[] {
    const relu = this.opts.activation === 'relu';
    const y = [x[0], this.opts.units];
    return [...denseUses(x, this.opts.units, relu), ...(relu ? reluUses(y, false) : []), sumChannelsUse(y)];
  }

  how(): string {
    const relu = this.opts.activation === 'relu' ? '; the relu is applied in the same kernel as each output is stored' : '';
    return `y = x·Wᵀ + b: matmul.wgsl addresses the operands${relu}`;
  }

  keras(): KerasLayer {
    return { factory: 'dense', options: { units: this.opts.units, activation: this.opts.activation ?? 'linear' } };
  }
}
