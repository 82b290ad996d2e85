import { FerError } from '../backend/errors.ts';
import type { Shape, Tensor } from '../backend/tensor.ts';
import { dropout, dropoutBackward } from '../ops/dropout.ts';
import { dropoutUses, type KernelUse } from '../ops/kernel-use.ts';
import { Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type ParamShape } from './layer.ts';

/** Inverted dropout while training (kept values scaled by 1/(1−rate)); the identity at inference. */
export class Dropout extends Layer {
  readonly type = 'Dropout';
  readonly kerasName = 'dropout';
  #seed: number | null = null;

  constructor(readonly rate: number) {
    super();
    if (!(rate >= 0 && rate < 1)) throw new FerError(`Dropout: rate must be in [0, 1), got ${rate}`);
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (!ctx.training || this.rate === 0) return x;
    if (!ctx.rng) throw new Error(`${this.name}: training forward needs ctx.rng for the dropout mask`);
    this.#seed = ctx.rng.seed();
    return dropout(x, this.rate, this.#seed);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (!needInputGrad) return null;
    if (this.rate === 0) return dy;
    const seed = need(this.#seed, this, 'mask seed');
    this.clearCache();
    return dropoutBackward(dy, this.rate, seed);
  }

  override clearCache(): void {
    this.#seed = null;
  }

  config(): LayerConfig {
    return { type: this.type, rate: this.rate };
  }

  paramShapes(): ParamShape[] {
    return [];
  }

  kernels(x: Shape): KernelUse[] {
    return this.rate > 0 ? dropoutUses(x, this.rate) : [];
  }

  how(): string {
    return 'no kernel at inference: dropout is the identity (dropout.wgsl runs only while training)';
  }

  keras(): KerasLayer {
    return { factory: 'dropout', options: { rate: this.rate } };
  }
}
