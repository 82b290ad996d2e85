import { zeros } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { keep } from '../backend/scope.ts';
import type { Tensor } from '../backend/tensor.ts';
import type { Param } from '../nn/layer.ts';
import { adamUpdate } from '../ops/adam.ts';
import { sgdUpdate } from '../ops/sgd.ts';

export interface OptimizerConfig {
  kind: 'sgd' | 'adam';
  lr: number;
  /** SGD only. */
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/**
 * Applies each trainable parameter's gradient and keeps the per-parameter state (SGD's
 * velocity, Adam's moments) as named tensors, so a checkpoint can store and restore it.
 */
export class Optimizer {
  readonly state = new Map<string, Tensor>();
  step = 0;

  /** The settings in use; a schedule sets config.lr before each step. */
  config: OptimizerConfig;

  constructor(config: OptimizerConfig) {
    if (!(config.lr > 0)) throw new FerError(`optimizer: learning rate must be > 0, got ${config.lr}`);
    // A copy: the trainer overwrites config.lr every step, and the caller's object (a run's
    // settings, saved in its checkpoint and model files) must keep the lr it was configured with.
    this.config = { ...config };
  }

  #slot(p: Param, role: string): Tensor {
    const key = `${p.name}.${role}`;
    let t = this.state.get(key);
    if (!t) {
      t = keep(zeros(p.value.shape, p.value.backend));
      this.state.set(key, t);
    }
    return t;
  }

  apply(params: Param[]): void {
    this.step++;
    const { kind, lr, momentum, nesterov, weightDecay } = this.config;
    for (const p of params) {
      if (!p.trainable) continue;
      if (!p.grad) throw new Error(`optimizer: ${p.name} has no gradient (backward not run?)`);
      const wd = p.decay ? weightDecay : 0;
      if (kind === 'sgd') {
        sgdUpdate(p.value, p.grad, momentum > 0 ? this.#slot(p, 'velocity') : null, { lr, momentum, nesterov, weightDecay: wd });
      } else {
        adamUpdate(p.value, p.grad, this.#slot(p, 'm'), this.#slot(p, 'v'), this.step, { lr, weightDecay: wd, decoupled: true });
      }
      p.grad = null;
    }
  }

  dispose(): void {
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
  }
}
