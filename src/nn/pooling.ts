import type { Shape, Tensor } from '../backend/tensor.ts';
import { maxPool2d, maxPool2dBackward, pool2dGeometry, type Pool2dOptions } from '../ops/maxpool2d.ts';
import { Layer, need, type ForwardContext, type LayerConfig } from './layer.ts';

/** Max pooling over each channel's H×W plane; 2×2 with stride 2 halves the image (odd sizes round down). */
export class MaxPool2D extends Layer {
  readonly type = 'MaxPool2D';
  readonly opts: Required<Pool2dOptions>;
  #x: Tensor | null = null;

  constructor(opts: Pool2dOptions = {}) {
    super();
    const size = opts.size ?? 2;
    this.opts = { size, stride: opts.stride ?? size, padding: opts.padding ?? 'valid' };
  }

  outputShape(input: Shape): Shape {
    const g = pool2dGeometry([1, ...input], this.opts);
    return [g.C, g.OH, g.OW];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.training) this.#x = x;
    return maxPool2d(x, this.opts);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const x = need(this.#x, this, 'input');
    this.clearCache();
    return needInputGrad ? maxPool2dBackward(x, dy, this.opts) : null;
  }

  override clearCache(): void {
    this.#x = null;
  }

  config(): LayerConfig {
    return { type: this.type, ...this.opts };
  }
}
