import { FerError } from '../backend/errors.ts';
import type { Random } from '../backend/random.ts';
import { augmentImage, checkAugmentOptions, checkCropSide, type AugmentOptions } from './augment.ts';
import { IMAGE_SIZE, PIXELS, type Dataset } from './dataset.ts';

/**
 * Network input for the images at `indices`: x is [B,1,48,48] with pixels scaled to [0, 1],
 * y the labels as float32 (what the loss kernel reads). With `augment`, each image gets its
 * own random transform, drawn from `rng` in index order, so the same rng state gives the same
 * batch. The caller picks the indices (the trainer derives each batch's order and seed from
 * its position in the run, which is what lets a resumed run repeat an uninterrupted one).
 * With `side` below 48 the images are side×side crops: random ones (augmentImage moves the crop
 * by the shift) with `augment`, the centre crop without (what validation and plain tests see).
 */
export function assembleBatch(
  ds: Dataset,
  indices: ArrayLike<number>,
  augment: AugmentOptions | null,
  rng: Random | null,
  xBuffer?: Float32Array,
  yBuffer?: Float32Array,
  side = IMAGE_SIZE,
): { x: Float32Array; y: Float32Array } {
  checkCropSide(side, 'assembleBatch');
  const out = side * side;
  const x = xBuffer ?? new Float32Array(indices.length * out);
  const y = yBuffer ?? new Float32Array(indices.length);
  const margin = (IMAGE_SIZE - side) / 2;
  if (augment) {
    if (!rng) throw new FerError('assembleBatch: augmentation needs a random generator');
    checkAugmentOptions(augment);
  }
  if (x.length < indices.length * out || y.length < indices.length) {
    throw new FerError(`assembleBatch: buffers hold ${x.length} pixels and ${y.length} labels, want ${indices.length * out} and ${indices.length}`);
  }
  const plain = new Float32Array(PIXELS);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new FerError(`assembleBatch: index ${i} outside the dataset of ${ds.count} images`);
    y[b] = ds.labels[i];
    const img = ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    const dst = x.subarray(b * out, (b + 1) * out);
    if (augment) {
      for (let p = 0; p < PIXELS; p++) plain[p] = img[p] / 255;
      augmentImage(plain, dst, rng!, augment);
    } else {
      for (let r = 0; r < side; r++) {
        for (let c = 0; c < side; c++) dst[r * side + c] = img[(r + margin) * IMAGE_SIZE + c + margin] / 255;
      }
    }
  }
  return { x, y };
}
