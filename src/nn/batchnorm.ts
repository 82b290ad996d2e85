import { full } from '../backend/create.ts';
import { keep } from '../backend/scope.ts';
import type { Random } from '../backend/random.ts';
import type { BackendName, Shape, Tensor } from '../backend/tensor.ts';
import { batchNormBackward, batchNormInfer, batchNormTrain } from '../ops/batchnorm.ts';
import { batchNormUses, type KernelUse } from '../ops/kernel-use.ts';
import { Layer, need, type ForwardContext, type KerasLayer, type LayerConfig, type Param, type ParamShape } from './layer.ts';

export interface BatchNormOptions {
  /** Keras's defaults: running = 0.99·running + 0.01·batch; eps 1e-3. */
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalization over channels (after a conv, input [C,H,W]) or features (after a dense
 * layer, input [F]). Four tensors per channel: gamma and beta (trained), the running mean and
 * variance (updated by training, used for inference; Keras counts them as non-trainable).
 */
export class BatchNorm extends Layer {
  readonly type = 'BatchNorm';
  readonly kerasName = 'batch_normalization';
  readonly opts: Required<BatchNormOptions>;
  gamma: Param | null = null;
  beta: Param | null = null;
  runningMean: Param | null = null;
  runningVar: Param | null = null;
  #x: Tensor | null = null;
  #mean: Tensor | null = null;
  #invStd: Tensor | null = null;

  constructor(opts: BatchNormOptions = {}) {
    super();
    this.opts = { momentum: 0.99, eps: 1e-3, ...opts };
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  override build(input: Shape, _rng: Random, backend: BackendName): void {
    const C = input[0];
    const p = (role: string, value: number, trainable: boolean): Param => ({
      name: `${this.name}.${role}`,
      value: keep(full([C], value, backend)),
      grad: null,
      trainable,
      decay: false,
    });
    this.gamma = p('gamma', 1, true);
    this.beta = p('beta', 0, true);
    this.runningMean = p('running_mean', 0, false);
    this.runningVar = p('running_var', 1, false);
  }

  override params(): Param[] {
    return [need(this.gamma, this, 'gamma'), this.beta!, this.runningMean!, this.runningVar!];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const g = need(this.gamma, this, 'gamma').value;
    const b = this.beta!.value;
    if (!ctx.training) return batchNormInfer(x, g, b, this.runningMean!.value, this.runningVar!.value, this.opts);
    const { y, mean, invStd } = batchNormTrain(x, g, b, this.runningMean!.value, this.runningVar!.value, this.opts);
    this.#x = x;
    this.#mean = mean;
    this.#invStd = invStd;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const { dx, dgamma, dbeta } = batchNormBackward(need(this.#x, this, 'input'), dy, this.gamma!.value, this.#mean!, this.#invStd!);
    this.gamma!.grad = dgamma;
    this.beta!.grad = dbeta;
    this.clearCache();
    if (!needInputGrad) {
      dx.dispose();
      return null;
    }
    return dx;
  }

  override clearCache(): void {
    this.#x = null;
    this.#mean = null;
    this.#invStd = null;
  }

  config(): LayerConfig {
    return { type: this.type, ...this.opts };
  }

  paramShapes(input: Shape): ParamShape[] {
    const C = [input[0]];
    return [
      { role: 'gamma', shape: C, trainable: true },
      { role: 'beta', shape: C, trainable: true },
      { role: 'running_mean', shape: C, trainable: false },
      { role: 'running_var', shape: C, trainable: false },
    ];
  }

  kernels(x: Shape): KernelUse[] {
    return batchNormUses(x, this.opts);
  }

  how(): string {
    return 'inference: the elementwise apply entry point with the running mean and variance';
  }

  keras(): KerasLayer {
    // Keras's axis −1 is our channel axis once the peer lays images out NHWC.
    return { factory: 'batchNormalization', options: { momentum: this.opts.momentum, epsilon: this.opts.eps } };
  }

  override macs(input: Shape): number {
    return input.reduce((a, b) => a * b, 1);
  }
}
