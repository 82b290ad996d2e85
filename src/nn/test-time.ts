import { FerError } from '../backend/errors.ts';
import { mirrorImages } from './flip-average.ts';

/**
 * Test-time averaging: which views of each face a prediction averages the class probabilities of.
 *   none:     the image as it is, or its centre crop for a model that reads crops;
 *   flip:     that and its mirror image;
 *   ten-crop: the four corner crops and the centre crop, and the mirror of each (Krizhevsky et
 *             al. 2012), for models trained on random crops: ten times the network work.
 * A model file records the mode it was tuned with (metadata `test_time`); eval and predict use
 * it unless told otherwise.
 */
export const TEST_TIME_MODES = ['none', 'flip', 'ten-crop'] as const;
export type TestTime = (typeof TEST_TIME_MODES)[number];

export function isTestTime(v: unknown): v is TestTime {
  return typeof v === 'string' && (TEST_TIME_MODES as readonly string[]).includes(v);
}

/** The side×side crop at (top, left) of each of n square single-channel images of side `from`. */
export function cropImages(x: Float32Array, n: number, from: number, side: number, top: number, left: number): Float32Array {
  if (top < 0 || left < 0 || top + side > from || left + side > from) throw new FerError(`cropImages: a ${side}×${side} crop at (${top}, ${left}) does not fit ${from}×${from} images`);
  const out = new Float32Array(n * side * side);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < side; r++) {
      const src = (i * from + top + r) * from + left;
      out.set(x.subarray(src, src + side), (i * side + r) * side);
    }
  }
  return out;
}

/**
 * One-line error unless a model reading side×side takes `mode`'s views of from×from images
 * (default 48, the faces eval and predict hand it): centre crops need an even margin, ten-crop a
 * model of crops. eval and predict call it before any work.
 */
export function checkTestTime(mode: TestTime, side: number, from = 48): void {
  if (side > from || (from - side) % 2 !== 0) throw new FerError(`testTimeViews: a model reading ${side}×${side} cannot take centre crops of ${from}×${from} images`);
  if (mode === 'ten-crop' && side === from) {
    throw new FerError(`ten-crop averaging needs a model that reads crops smaller than its ${from}×${from} images (this one reads them whole): use flip or none`);
  }
}

/**
 * The views `mode` averages, each [n,1,side,side], from n images of side `from` ≥ side. Centre
 * crops need an even margin (whole pixels); ten-crop needs a model that reads crops.
 */
export function testTimeViews(x: Float32Array, n: number, from: number, side: number, mode: TestTime): Float32Array[] {
  if (x.length !== n * from * from) throw new FerError(`testTimeViews: ${x.length} values are not ${n} images of ${from}×${from}`);
  checkTestTime(mode, side, from);
  const m = (from - side) / 2;
  const centre = side === from ? x : cropImages(x, n, from, side, m, m);
  const mirror = (v: Float32Array) => mirrorImages(v, [n, 1, side, side]);
  if (mode === 'none') return [centre];
  if (mode === 'flip') return [centre, mirror(centre)];
  const d = from - side;
  const crops = [[0, 0], [0, d], [d, 0], [d, d]].map(([t, l]) => cropImages(x, n, from, side, t, l));
  crops.push(centre);
  return [...crops, ...crops.map(mirror)];
}

/**
 * The averaging a prediction uses: the one asked for (--tta, or --flip), else the one the model
 * file records (metadata `test_time`, written by fer train), else none.
 */
export function chooseTestTime(metadata: Record<string, string>, asked?: string, flip = false): TestTime {
  if (asked !== undefined) {
    if (!isTestTime(asked)) throw new FerError(`test-time averaging must be ${TEST_TIME_MODES.join(', ')}, got "${asked}"`);
    if (flip && asked !== 'flip') throw new FerError(`--flip and --tta ${asked} ask for different averaging: give one`);
    return asked;
  }
  if (flip) return 'flip';
  return isTestTime(metadata.test_time) ? metadata.test_time : 'none';
}
