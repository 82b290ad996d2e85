import { FerError } from '../backend/errors.ts';
import type { Random } from '../backend/random.ts';
import { augmentImage, checkAugmentOptions, type AugmentOptions } from './augment.ts';
import { PIXELS, type Dataset } from './dataset.ts';

export interface BatchOptions {
  batchSize: number;
  /** Visit the images in a random order drawn from `rng` (else in dataset order). */
  shuffle: boolean;
  /** Draws the order, then each image's augmentation in turn: same seed, same epoch. */
  rng: Random;
  augment?: AugmentOptions | null;
  /** Leave out a last batch smaller than batchSize (default: keep it). */
  dropLast?: boolean;
}

export interface Batch {
  /** size·1·48·48 network inputs, pixel/255 (then augmented, still in [0, 1]). */
  x: Float32Array;
  /** size labels, as float32 for the loss kernel. */
  y: Float32Array;
  size: number;
  /** Which dataset images are in the batch, in order. */
  indices: Uint32Array;
}

/**
 * One epoch of batches. Every image appears exactly once (dropLast aside), in an order that
 * depends only on the generator's state. To keep an epoch from allocating per batch, ALL
 * batches share one x, one y and one index buffer: a batch is valid until the iterator is
 * advanced, so copy it (or upload it, as the trainer does) before asking for the next. The last
 * short batch gets views of the first `size` entries.
 */
export function batches(ds: Dataset, opts: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new FerError(`batches: batchSize is ${batchSize}, want a positive integer`);
  if (ds.images.length < ds.count * PIXELS || ds.labels.length < ds.count) {
    throw new FerError(`batches: dataset holds ${ds.images.length} bytes and ${ds.labels.length} labels, want ${ds.count * PIXELS} and ${ds.count} for count ${ds.count}`);
  }
  if (opts.augment) checkAugmentOptions(opts.augment);
  // Checked here, not in the generator, so bad options fail at the call rather than at the first batch.
  return epoch(ds, opts);
}

function* epoch(ds: Dataset, opts: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize, shuffle, rng } = opts;
  const augment = opts.augment ?? null;
  const order = new Uint32Array(ds.count);
  for (let i = 0; i < ds.count; i++) order[i] = i;
  if (shuffle) rng.shuffle(order);

  const x = new Float32Array(batchSize * PIXELS);
  const y = new Float32Array(batchSize);
  const indices = new Uint32Array(batchSize);
  const plain = new Float32Array(PIXELS);
  for (let start = 0; start < ds.count; start += batchSize) {
    const size = Math.min(batchSize, ds.count - start);
    if (size < batchSize && opts.dropLast) return;
    for (let b = 0; b < size; b++) {
      const i = order[start + b];
      indices[b] = i;
      y[b] = ds.labels[i];
      const img = ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
      const into = augment ? plain : x.subarray(b * PIXELS, (b + 1) * PIXELS);
      for (let p = 0; p < PIXELS; p++) into[p] = img[p] / 255;
      if (augment) augmentImage(plain, x.subarray(b * PIXELS, (b + 1) * PIXELS), rng, augment);
    }
    yield size === batchSize
      ? { x, y, size, indices }
      : { x: x.subarray(0, size * PIXELS), y: y.subarray(0, size), size, indices: indices.subarray(0, size) };
  }
}
