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
  /** Largest zoom either way: the face is magnified by a factor in [1 − s, 1 + s] (absent: 0). */
  scale?: number;
  /**
   * Probability of random erasing (Zhong et al. 2017; torchvision's RandomErasing defaults):
   * a rectangle of 2–33% of the output, aspect ratio 0.3–3.3 (log-uniform), set to 0 (absent: 0).
   */
  erase?: number;
}

/** Random erasing's area fraction and aspect ratio ranges (torchvision's defaults). */
export const ERASE_AREA: readonly [number, number] = [0.02, 0.33];
export const ERASE_RATIO: readonly [number, number] = [0.3, 3.3];

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
  if (opts.scale !== undefined) range('scale', 0.5);
  if (opts.erase !== undefined) range('erase', 1);
}

/** One-line error unless `side` is a crop size the 48×48 images allow (an even margin keeps crops on whole pixels). */
export function checkCropSide(side: number, what = 'crop'): void {
  if (!Number.isInteger(side) || side < 8 || side > IMAGE_SIZE || (IMAGE_SIZE - side) % 2 !== 0) {
    throw new FerError(`${what}: side is ${side}, want an even integer from 8 to ${IMAGE_SIZE}`);
  }
}

/**
 * Writes a randomly shifted, mirrored, rotated, zoomed and re-lit copy of the 48×48 image `src`
 * (values 0–1) into `dst` (a different buffer), clamped to [0, 1], then maybe erases a rectangle.
 * `dst` may be smaller than the source: a side×side crop (side² values) centred on the image, so
 * with shift (48 − side)/2 the shift IS the random crop (every crop position equally likely).
 * Geometry is one inverse mapping: each output pixel reads the source bilinearly at its shifted,
 * unrotated, unzoomed, unmirrored position, clamped at the edges (so shifts fill with edge pixels,
 * not black bars). Whole-pixel moves land on pixel centres, so without rotation or zoom the copy
 * is exact. Six numbers are drawn from `rng` per image whatever those options; six more (zoom and
 * erasing) when scale or erase is above 0, so runs without them keep the stream they always had.
 */
export function augmentImage(src: Float32Array, dst: Float32Array, rng: Random, opts: AugmentOptions): void {
  const side = Math.round(Math.sqrt(dst.length));
  if (src.length !== PIXELS || side * side !== dst.length || side > IMAGE_SIZE || (IMAGE_SIZE - side) % 2 !== 0) {
    throw new FerError(`augmentImage: src has ${src.length} and dst ${dst.length} values, want ${PIXELS} (48×48) and a square crop with an even margin`);
  }
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
  const scale = opts.scale ?? 0;
  const erase = opts.erase ?? 0;
  const more = scale > 0 || erase > 0 ? [rng.next(), rng.next(), rng.next(), rng.next(), rng.next(), rng.next()] : null;
  // Magnify by `zoom`: the output pixel at distance d from the centre reads the source at d/zoom.
  const zoom = more ? 1 + (2 * more[0] - 1) * scale : 1;

  const n = IMAGE_SIZE;
  const mid = (n - 1) / 2;
  const outMid = (side - 1) / 2;
  const cos = Math.cos(angle) / zoom;
  const sin = Math.sin(angle) / zoom;
  let sum = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const px = x - outMid - dx;
      const py = y - outMid - dy;
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
      dst[y * side + x] = v;
      sum += v;
    }
  }
  const mean = sum / dst.length;
  for (let i = 0; i < dst.length; i++) dst[i] = Math.min(1, Math.max(0, contrast * dst[i] + (1 - contrast) * mean + brightness));
  if (more && more[1] < erase) eraseRectangle(dst, side, more[2], more[3], more[4], more[5]);
}

/**
 * Zeroes a rectangle of the side×side image from four uniform draws: its area (a fraction in
 * ERASE_AREA of the image), its aspect ratio h/w (log-uniform in ERASE_RATIO), and its top-left
 * corner (uniform over the positions where it fits). A rectangle wider or taller than the image
 * is cut to fit, where torchvision would draw again: one draw keeps the stream fixed-length.
 */
export function eraseRectangle(img: Float32Array, side: number, uArea: number, uRatio: number, uTop: number, uLeft: number): void {
  const area = (ERASE_AREA[0] + uArea * (ERASE_AREA[1] - ERASE_AREA[0])) * side * side;
  const ratio = Math.exp(Math.log(ERASE_RATIO[0]) + uRatio * (Math.log(ERASE_RATIO[1]) - Math.log(ERASE_RATIO[0])));
  const h = Math.min(side, Math.max(1, Math.round(Math.sqrt(area * ratio))));
  const w = Math.min(side, Math.max(1, Math.round(Math.sqrt(area / ratio))));
  const top = Math.floor(uTop * (side - h + 1));
  const left = Math.floor(uLeft * (side - w + 1));
  for (let y = top; y < top + h; y++) img.fill(0, y * side + left, y * side + left + w);
}
