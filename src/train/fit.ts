import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { mixSeed, Random } from '../backend/random.ts';
import { keep, scope } from '../backend/scope.ts';
import { sizeOf } from '../backend/tensor.ts';
import { argmaxRows } from '../ops/reduce.ts';
import { assembleBatch } from '../data/batches.ts';
import type { AugmentOptions } from '../data/augment.ts';
import { PIXELS, type Dataset } from '../data/dataset.ts';
import type { Sequential } from '../nn/sequential.ts';
import { epochOrder, batchesPerEpoch } from './trainer.ts';
import type { Optimizer } from './optimizer.ts';
import { optimizeBatch } from './step.ts';
import { autotuneConvolutions } from '../nn/autotune.ts';

/**
 * Training without a run folder: the loop a library user or a web page drives, in Node or a
 * browser. (`train()` in trainer.ts is the CLI's loop, with checkpoints on disk and a schedule.)
 */

/** Examples as the network takes them: x is count·inputSize floats, y the class indices. */
export interface Examples {
  x: Float32Array;
  y: ArrayLike<number>;
  count: number;
}

export interface StepResult {
  /** Mean cross-entropy of the batch. */
  loss: number;
  /** Examples in the batch the model classified right (before this step's update). */
  correct: number;
  count: number;
}

/** One optimizer step on one batch: forward, loss, backward, update. */
export async function trainStep(
  model: Sequential,
  optimizer: Optimizer,
  x: Float32Array,
  y: ArrayLike<number>,
  opts: { rng?: Random; classWeights?: readonly number[] | null } = {},
): Promise<StepResult> {
  const per = sizeOf(model.inputShape);
  const n = y.length;
  if (n < 1 || x.length !== n * per) throw new FerError(`trainStep: ${n} labels need ${n}·${per} input values, got ${x.length}`);
  const K = model.classes.length;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(y[i]) || y[i] < 0 || y[i] >= K) throw new FerError(`trainStep: label ${y[i]} at ${i} is not a class index 0–${K - 1}`);
  }
  const weights = opts.classWeights ? tensor(Float32Array.from(opts.classWeights), [K], model.backend) : null;
  try {
    const r = await optimizeBatch(model, optimizer, x, Float32Array.from(y), { rng: opts.rng ?? new Random(optimizer.step + 1), weights });
    return { ...r, count: n };
  } finally {
    weights?.dispose();
  }
}

/** Class predictions (argmax of the logits) in inference mode, batch by batch. */
export async function predictClasses(model: Sequential, x: Float32Array, batchSize = 256): Promise<Int32Array> {
  const per = sizeOf(model.inputShape);
  if (x.length % per !== 0) throw new FerError(`predictClasses: ${x.length} values is not a whole number of ${per}-value examples`);
  const count = x.length / per;
  const out = new Int32Array(count);
  for (let s = 0; s < count; s += batchSize) {
    const n = Math.min(batchSize, count - s);
    const pred = scope(() => keep(argmaxRows(model.forward(tensor(x.subarray(s * per, (s + n) * per), [n, ...model.inputShape], model.backend), { training: false }))));
    out.set(Array.from(await pred.read(), Math.round), s);
    pred.dispose();
  }
  return out;
}

export interface FitStep {
  epoch: number;
  /** Batch within the epoch, from 1. */
  batch: number;
  batches: number;
  /** Optimizer steps so far, from 1. */
  step: number;
  loss: number;
  accuracy: number;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Seeds the batch order, augmentation and dropout: the same seed gives the same run. */
  seed?: number;
  /** Random shifts, flips, rotations… of each 48×48 image (Dataset input only). */
  augment?: AugmentOptions | null;
  classWeights?: readonly number[] | null;
  /** Called after every step; a returned promise is awaited (a page can pause here). */
  onStep?(s: FitStep): void | Promise<void>;
  /** Stops before the next step. */
  signal?: AbortSignal;
}

function isDataset(d: Dataset | Examples): d is Dataset {
  return (d as Dataset).images instanceof Uint8Array;
}

/**
 * Trains `model` for `epochs` passes over the data in shuffled batches. Data is either 48×48
 * gray images (a Dataset: pixels scaled to [0, 1], optionally augmented) or ready examples.
 * Returns the per-step losses and accuracies.
 */
export async function fit(model: Sequential, optimizer: Optimizer, data: Dataset | Examples, opts: FitOptions = {}): Promise<FitStep[]> {
  const { epochs = 1, batchSize = 32, seed = 0, augment = null, classWeights = null } = opts;
  if (!Number.isInteger(epochs) || epochs < 1) throw new FerError(`fit: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 2) throw new FerError(`fit: batchSize must be an integer >= 2, got ${batchSize}`);
  const per = sizeOf(model.inputShape);
  const images = isDataset(data);
  if (images && per !== PIXELS) throw new FerError(`fit: a Dataset holds 48×48 images but the model takes ${per} values per example`);
  if (!images) {
    if (!(data.x instanceof Float32Array) || data.x.length !== data.count * per || data.y.length !== data.count) {
      throw new FerError(`fit: examples need x of ${data.count}·${per} floats and ${data.count} labels, got ${data.x?.length} and ${data.y?.length}`);
    }
  } else if (augment && model.inputShape.join() !== '1,48,48') throw new FerError('fit: augmentation needs [1,48,48] inputs');
  if (data.count < 2) throw new FerError(`fit: need at least 2 examples, got ${data.count}`);
  const batches = batchesPerEpoch(data.count, batchSize);
  // On a hardware GPU, time the convolution kernels at this batch's shapes once (nn/autotune.ts).
  await autotuneConvolutions(model, Math.min(batchSize, data.count));
  const log: FitStep[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = epochOrder(data.count, seed, epoch);
    for (let b = 0; b < batches; b++) {
      if (opts.signal?.aborted) return log;
      const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, data.count));
      let x: Float32Array;
      let y: ArrayLike<number>;
      if (images) {
        ({ x, y } = assembleBatch(data, idx, augment, augment ? new Random(mixSeed(seed, epoch, b, 1)) : null));
      } else {
        x = new Float32Array(idx.length * per);
        const yy = new Float32Array(idx.length);
        idx.forEach((i, j) => {
          x.set(data.x.subarray(i * per, (i + 1) * per), j * per);
          yy[j] = data.y[i];
        });
        y = yy;
      }
      const r = await trainStep(model, optimizer, x, y, { rng: new Random(mixSeed(seed, optimizer.step, 2)), classWeights });
      if (!Number.isFinite(r.loss)) throw new FerError(`fit: the loss became ${r.loss} at epoch ${epoch + 1}, batch ${b + 1}: lower the learning rate`);
      const s: FitStep = { epoch: epoch + 1, batch: b + 1, batches, step: optimizer.step, loss: r.loss, accuracy: r.correct / r.count };
      log.push(s);
      await opts.onStep?.(s);
    }
  }
  return log;
}
