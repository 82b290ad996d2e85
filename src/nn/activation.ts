import type { Shape, Tensor } from '../backend/tensor.ts';
import { relu, reluBackward } from '../ops/relu.ts';
import { reluUses, type KernelUse } from '../ops/kernel-use.ts';
import { Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type ParamShape } from './layer.ts';

/**
 * A relu of its own, for conv → batch norm → relu (the order of most modern networks, and of
 * the `vgg` model): Conv2D's `activation: 'relu'` runs before the batch norm that follows it.
 */
export class ReLU extends Layer {
  readonly type = 'ReLU';
  readonly kerasName = 're_lu';
  #y: Tensor | null = null;

  outputShape(input: Shape): Shape {
    return input;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const y = relu(x);
    if (ctx.training) this.#y = y;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const y = need(this.#y, this, 'output');
    this.clearCache();
    return needInputGrad ? reluBackward(y, dy) : null;
  }

  override clearCache(): void {
    this.#y = null;
  }

  config(): LayerConfig {
    return { type: this.type };
  }

  paramShapes(): ParamShape[] {
    return [];
  }

  kernels(x: Shape): KernelUse[] {
    return reluUses(x, true);
  }

  how(): string {
    return 'elementwise max(x, 0) (folded models do this in the convolution store instead)';
  }

  keras(): KerasLayer {
    return { factory: 'reLU', options: {} };
  }
}
