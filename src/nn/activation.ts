import type { Shape, Tensor } from '../backend/tensor.ts';
import { relu, reluBackward } from '../ops/relu.ts';
import { Layer, need, type ForwardContext, type LayerConfig } from './layer.ts';

/**
 * A relu of its own, for conv → batch norm → relu (the order of most modern networks, and of
 * the `vgg` model): Conv2D's `activation: 'relu'` runs before the batch norm that follows it.
 */
export class ReLU extends Layer {
  readonly type = 'ReLU';
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
}
