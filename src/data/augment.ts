import { FerError } from '../backend/errors.ts';
import type { Random } from '../backend/random.ts';
import { IMAGE_SIZE, PIXELS } from './dataset.ts';

/** How strongly to perturb each training image; every field 0 leaves images untouched. */
export interface AugmentOptions {
  /** Largest shift in whole pixels, each axis independently (edge pixels fill in). */
  shift: number;
  /** Probability of a left–right mirror image. */
  flip: number;
  /** Largest rotation about the centre, in degrees either way. */
  rotate: number;
  /** Largest brightness change, added on the 0–1 pixel scale. */
  brightness: number;
  /** Largest contrast change: pixels move from the image mean by a factor in [1 − c, 1 + c]. */
  contrast: number;
}

/**
 * For FER2013: faces are roughly aligned already, so small shifts (±4 px, about the usual
 * pad-4-and-crop) and tilts (±10°); expressions are left–right symmetric in meaning, so half
 * the images are mirrored; the photos vary a lot in exposure, so ±0.1 brightness and ±20%
 * contrast.
 */
export const DEFAULT_AUGMENT: Readonly<AugmentOptions> = { shift: 4, flip: 0.5, rotate: 10, brightness: 0.1, contrast: 0.2 };

export const NO_AUGMENT: Readonly<AugmentOptions> = { shift: 0, flip: 0, rotate: 0, brightness: 0, contrast: 0 };

/** One-line errors for options out of range. */
export function checkAugmentOptions(opts: AugmentOptions): void {
  const range = (name: keyof AugmentOptions, max: number, integer = false): void => {
    const v = opts[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max || (integer && !Number.isInteger(v))) {
      throw new FerError(`augment: ${name} is ${v}, want ${integer ? 'an integer' : 'a number'} from 0 to ${max}`);
    }
  };
  range('shift', IMAGE_SIZE / 2 - 1, true);
  range('flip', 1);
  range('rotate', 180);
  range('brightness', 1);
  range('contrast', 1);
}

/**
 * Writes a randomly shifted, mirrored, rotated and re-lit copy of the 48×48 image `src`
 * (values 0–1) into `dst` (a different buffer), clamped to [0, 1]. Geometry is one inverse
 * mapping: each output pixel reads the source bilinearly at its shifted, unrotated, unmirrored
 * position, clamped at the edges (so shifts fill with edge pixels, not black bars). Whole-pixel
 * moves land on pixel centres, so without rotation the copy is exact. Six numbers are drawn from
 * `rng` per image whatever the options, so a run's random stream does not depend on them.
 */
export function augmentImage(src: Float32Array, dst: Float32Array, rng: Random, opts: AugmentOptions): void {
  if (src.length !== PIXELS || dst.length !== PIXELS) throw new FerError(`augmentImage: src has ${src.length} and dst ${dst.length} values, want ${PIXELS} each (48×48)`);
  if (src.buffer === dst.buffer && src.byteOffset < dst.byteOffset + dst.byteLength && dst.byteOffset < src.byteOffset + src.byteLength) {
    throw new FerError('augmentImage: src and dst overlap, want separate buffers');
  }
  checkAugmentOptions(opts);
  const r = [rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next()];
  const dx = Math.floor(r[0] * (2 * opts.shift + 1)) - opts.shift;
  const dy = Math.floor(r[1] * (2 * opts.shift + 1)) - opts.shift;
  const mirror = r[2] < opts.flip ? -1 : 1;
  const angle = (((2 * r[3] - 1) * opts.rotate) * Math.PI) / 180;
  const brightness = (2 * r[4] - 1) * opts.brightness;
  const contrast = 1 + (2 * r[5] - 1) * opts.contrast;

  const n = IMAGE_SIZE;
  const mid = (n - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let sum = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const px = x - mid - dx;
      const py = y - mid - dy;
      const sx = Math.min(Math.max(mirror * (cos * px + sin * py) + mid, 0), n - 1);
      const sy = Math.min(Math.max(-sin * px + cos * py + mid, 0), n - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, n - 1);
      const y1 = Math.min(y0 + 1, n - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = src[y0 * n + x0] * (1 - fx) + src[y0 * n + x1] * fx;
      const bottom = src[y1 * n + x0] * (1 - fx) + src[y1 * n + x1] * fx;
      const v = top * (1 - fy) + bottom * fy;
      dst[y * n + x] = v;
      sum += v;
    }
  }
  const mean = sum / PIXELS;
  for (let i = 0; i < PIXELS; i++) dst[i] = Math.min(1, Math.max(0, contrast * dst[i] + (1 - contrast) * mean + brightness));
}
