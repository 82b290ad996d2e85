import type { Shape, Tensor } from '../backend/tensor.ts';
import { globalAvgPool, globalAvgPoolBackward, globalPoolGeometry } from '../ops/global-avg-pool.ts';
import { maxPool2d, maxPool2dBackward, pool2dGeometry, type Pool2dOptions } from '../ops/maxpool2d.ts';
import { globalAvgPoolUses, maxPool2dUses, type KernelUse } from '../ops/kernel-use.ts';
import { Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type ParamShape } from './layer.ts';

/** Max pooling over each channel's H×W plane; 2×2 with stride 2 halves the image (odd sizes round down). */
export class MaxPool2D extends Layer {
  readonly type = 'MaxPool2D';
  readonly kerasName = 'max_pooling2d';
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

  paramShapes(): ParamShape[] {
    return [];
  }

  kernels(x: Shape): KernelUse[] {
    return maxPool2dUses(x, this.opts);
  }

  how(): string {
    return 'one invocation per output takes the maximum of its window';
  }

  keras(): KerasLayer {
    return { factory: 'maxPooling2d', options: { poolSize: this.opts.size, strides: this.opts.stride, padding: this.opts.padding } };
  }
}

/**
 * Global average pooling: [C, H, W] → [C], each channel's mean over its plane. No weights; at the
 * top of a network it replaces Flatten + a wide dense layer (the `vgg` model's 192×5×5 map would
 * otherwise need 4,800 inputs per class).
 */
export class GlobalAvgPool2D extends Layer {
  readonly type = 'GlobalAvgPool2D';
  readonly kerasName = 'global_average_pooling2d';
  #inShape: Shape | null = null;

  outputShape(input: Shape): Shape {
    return [globalPoolGeometry([1, ...input]).C];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.training) this.#inShape = x.shape;
    return globalAvgPool(x);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const shape = need(this.#inShape, this, 'input shape');
    this.clearCache();
    return needInputGrad ? globalAvgPoolBackward(dy, shape) : null;
  }

  override clearCache(): void {
    this.#inShape = null;
  }

  config(): LayerConfig {
    return { type: this.type };
  }

  override macs(input: Shape): number {
    return input.reduce((a, b) => a * b, 1);
  }

  paramShapes(): ParamShape[] {
    return [];
  }

  kernels(x: Shape): KernelUse[] {
    return globalAvgPoolUses(x);
  }

  how(): string {
    return "one invocation per channel of each image adds its plane's values and scales by 1/(H·W)";
  }

  keras(): KerasLayer {
    return { factory: 'globalAveragePooling2d', options: {} };
  }
}
