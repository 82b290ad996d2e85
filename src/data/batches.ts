import { FerError } from '../backend/errors.ts';
import type { Random } from '../backend/random.ts';
import { augmentImage, checkAugmentOptions, type AugmentOptions } from './augment.ts';
import { PIXELS, type Dataset } from './dataset.ts';

/**
 * Network input for the images at `indices`: x is [B,1,48,48] with pixels scaled to [0, 1],
 * y the labels as float32 (what the loss kernel reads). With `augment`, each image gets its
 * own random transform, drawn from `rng` in index order, so the same rng state gives the same
 * batch. The caller picks the indices (the trainer derives each batch's order and seed from
 * its position in the run, which is what lets a resumed run repeat an uninterrupted one).
 */
export function assembleBatch(
  ds: Dataset,
  indices: ArrayLike<number>,
  augment: AugmentOptions | null,
  rng: Random | null,
  x = new Float32Array(indices.length * PIXELS),
  y = new Float32Array(indices.length),
): { x: Float32Array; y: Float32Array } {
  if (augment) {
    if (!rng) throw new FerError('assembleBatch: augmentation needs a random generator');
    checkAugmentOptions(augment);
  }
  if (x.length < indices.length * PIXELS || y.length < indices.length) {
    throw new FerError(`assembleBatch: buffers hold ${x.length} pixels and ${y.length} labels, want ${indices.length * PIXELS} and ${indices.length}`);
  }
  const plain = new Float32Array(PIXELS);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new FerError(`assembleBatch: index ${i} outside the dataset of ${ds.count} images`);
    y[b] = ds.labels[i];
    const img = ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    const dst = x.subarray(b * PIXELS, (b + 1) * PIXELS);
    const into = augment ? plain : dst;
    for (let p = 0; p < PIXELS; p++) into[p] = img[p] / 255;
    if (augment) augmentImage(plain, dst, rng!, augment);
  }
  return { x, y };
}
