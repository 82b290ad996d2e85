import type { Shape, Tensor } from '../backend/tensor.ts';
import type { KernelUse } from '../ops/kernel-use.ts';
import { Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type ParamShape } from './layer.ts';

/** [N, C, H, W] → [N, C·H·W], in NCHW order; a view, no copy. */
export class Flatten extends Layer {
  readonly type = 'Flatten';
  readonly kerasName = 'flatten';
  #inShape: Shape | null = null;

  outputShape(input: Shape): Shape {
    return [input.reduce((a, b) => a * b, 1)];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.training) this.#inShape = x.shape;
    return x.reshape([x.shape[0], -1]);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const shape = need(this.#inShape, this, 'input shape');
    this.clearCache();
    return needInputGrad ? dy.reshape(shape) : null;
  }

  override clearCache(): void {
    this.#inShape = null;
  }

  config(): LayerConfig {
    return { type: this.type };
  }

  paramShapes(): ParamShape[] {
    return [];
  }

  /** None: a view of the same buffer. */
  kernels(): KernelUse[] {
    return [];
  }

  how(): string {
    return 'no kernel: the same buffer is read as [N, C·H·W] (a view)';
  }

  keras(): KerasLayer {
    return { factory: 'flatten', options: {} };
  }
}
