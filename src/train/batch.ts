import type { Random } from '../backend/random.ts';
import { augmentImage, type AugmentOptions } from '../data/augment.ts';
import type { Dataset } from '../data/dataset.ts';

export const PIXELS = 48 * 48;

/**
 * Network input for the images at `indices`: [B,1,48,48] with pixels scaled to [0, 1], and the
 * labels as float32. With `augment`, each image gets its own random transform drawn from `rng`.
 */
export function assembleBatch(
  ds: Dataset,
  indices: ArrayLike<number>,
  augment: AugmentOptions | null,
  rng: Random | null,
  x = new Float32Array(indices.length * PIXELS),
  y = new Float32Array(indices.length),
): { x: Float32Array; y: Float32Array } {
  const src = new Float32Array(PIXELS);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b];
    const img = ds.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    y[b] = ds.labels[i];
    const dst = x.subarray(b * PIXELS, (b + 1) * PIXELS);
    if (augment && rng) {
      for (let p = 0; p < PIXELS; p++) src[p] = img[p] / 255;
      augmentImage(src, dst, rng, augment);
    } else {
      for (let p = 0; p < PIXELS; p++) dst[p] = img[p] / 255;
    }
  }
  return { x, y };
}
