import { FerError } from '../backend/errors.ts';
import type { GrayImage } from '../image/image.ts';
import type { Cascade } from './cascade.ts';
import { cvRound } from './cv-round.ts';
import { classifyWindow, compileCascade } from './evaluator.ts';
import { groupRectangles, type Rect } from './group.ts';
import { integral, tiltedIntegral } from './integral.ts';
import { resizeLinearExact } from './resize-linear.ts';

/**
 * Viola–Jones detection, following OpenCV's CascadeClassifier::detectMultiScale:
 *
 * - Rather than growing the window, shrink the image: level k is the image resized (bilinear,
 *   bit-exact INTER_LINEAR_EXACT) by 1/f with f = scaleFactorᵏ, keeping only levels whose
 *   window (cascade size · f) lies within [minSize, maxSize] and the image.
 * - On every level slide the cascade-sized window in steps of 2 pixels (1 once f ≥ 2, where a
 *   level pixel covers 2+ image pixels); a window rejected by the very first stage also skips
 *   the next position, as OpenCV does.
 * - Every window that passes all stages is a candidate, mapped back to image coordinates;
 *   groupRectangles(minNeighbors, eps 0.2) merges them, and boxes are clipped to the image.
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Raw windows merged into this box. */
  neighbors: number;
}

export interface DetectOptions {
  /** Ratio between pyramid levels, > 1 (default 1.1). */
  scaleFactor?: number;
  /** A box needs more than this many raw windows (default 3; 0 returns raw windows). */
  minNeighbors?: number;
  /** Smallest box side in pixels (default 30; 0 means the cascade's own size). */
  minSize?: number;
  /** Largest box side in pixels (default 0, meaning the image size). */
  maxSize?: number;
}

const GROUP_EPS = 0.2;
const f32 = Math.fround;

/** The pyramid's scale factors, as float32 like OpenCV's `std::vector<float> scales`. */
export function pyramidScales(img: { width: number; height: number }, cascade: Cascade, scaleFactor: number, minSize: number, maxSize: number): number[] {
  const maxW = maxSize > 0 ? maxSize : img.width;
  const maxH = maxSize > 0 ? maxSize : img.height;
  const scales: number[] = [];
  for (let factor = 1; ; factor *= scaleFactor) {
    const w = cvRound(cascade.width * factor);
    const h = cvRound(cascade.height * factor);
    if (w > img.width || h > img.height || w > maxW || h > maxH) break;
    if (w < minSize || h < minSize) continue;
    scales.push(f32(factor));
  }
  return scales;
}

/** Every window that passes the whole cascade, in image coordinates, before grouping. */
export function detectCandidates(img: GrayImage, cascade: Cascade, scaleFactor = 1.1, minSize = 30, maxSize = 0): Rect[] {
  const scales = pyramidScales(img, cascade, scaleFactor, minSize, maxSize);
  if (scales.length === 0) return [];
  // Level sizes use float32 division, as OpenCV's `imgsz.width / scale` (int / float).
  const levels = scales.map((sc) => ({ sc, w: cvRound(f32(img.width / sc)), h: cvRound(f32(img.height / sc)) }));
  const stride = Math.max(...levels.map((l) => l.w)) + 1;
  const rows = Math.max(...levels.map((l) => l.h)) + 1;
  const tiltedOffset = rows * stride;
  const tables = new Int32Array(cascade.hasTilted ? 2 * tiltedOffset : tiltedOffset);
  const sqsum = new Int32Array(tiltedOffset);
  const pixels = new Uint8Array(levels[0].w * levels[0].h);
  const cc = compileCascade(cascade, stride, tiltedOffset);

  const found: Rect[] = [];
  for (const { sc, w, h } of levels) {
    const level = resizeLinearExact(img.data, img.width, img.height, w, h, pixels.subarray(0, w * h));
    integral(level, w, h, stride, tables, sqsum);
    if (cascade.hasTilted) tiltedIntegral(level, w, h, stride, tables.subarray(tiltedOffset));
    const step = sc >= 2 ? 1 : 2;
    const winW = cvRound(f32(cascade.width * sc));
    const winH = cvRound(f32(cascade.height * sc));
    const xEnd = w + 1 - cascade.width;
    const yEnd = h + 1 - cascade.height;
    for (let y = 0; y < yEnd; y += step) {
      for (let x = 0; x < xEnd; x += step) {
        const result = classifyWindow(cc, tables, sqsum, x, y);
        if (result > 0) found.push({ x: cvRound(f32(x * sc)), y: cvRound(f32(y * sc)), width: winW, height: winH });
        if (result === 0) x += step;
      }
    }
  }
  return found;
}

function checkOptions(img: GrayImage, cascade: Cascade, opts: DetectOptions): Required<DetectOptions> {
  const { scaleFactor = 1.1, minNeighbors = 3, minSize = 30, maxSize = 0 } = opts;
  if (img.channels !== 1 || img.data.length !== img.width * img.height) {
    throw new FerError(`detectFaces: img must be a gray image (1 channel, ${img.width}×${img.height} bytes), got ${img.channels} channels and ${img.data.length} bytes`);
  }
  if (!(cascade.stages?.length > 0)) throw new FerError('detectFaces: cascade has no stages, wanted one from parseCascade');
  if (!(scaleFactor > 1) || !Number.isFinite(scaleFactor)) throw new FerError(`detectFaces: scaleFactor must be a number > 1, got ${scaleFactor}`);
  if (!Number.isInteger(minNeighbors) || minNeighbors < 0) throw new FerError(`detectFaces: minNeighbors must be an integer ≥ 0, got ${minNeighbors}`);
  if (!Number.isInteger(minSize) || minSize < 0) throw new FerError(`detectFaces: minSize must be an integer ≥ 0, got ${minSize}`);
  if (!Number.isInteger(maxSize) || maxSize < 0) throw new FerError(`detectFaces: maxSize must be an integer ≥ 0 (0 = no limit), got ${maxSize}`);
  return { scaleFactor, minNeighbors, minSize, maxSize };
}

/** Faces (or whatever the cascade finds) in `img`, largest first. */
export function detectFaces(img: GrayImage, cascade: Cascade, opts: DetectOptions = {}): Box[] {
  const { scaleFactor, minNeighbors, minSize, maxSize } = checkOptions(img, cascade, opts);
  const candidates = detectCandidates(img, cascade, scaleFactor, minSize, maxSize);
  const boxes: Box[] = [];
  for (const r of groupRectangles(candidates, minNeighbors, GROUP_EPS)) {
    // Clipped to the image, as CascadeClassifier::detectMultiScale's clipObjects.
    const x0 = Math.max(r.x, 0);
    const y0 = Math.max(r.y, 0);
    const x1 = Math.min(r.x + r.width, img.width);
    const y1 = Math.min(r.y + r.height, img.height);
    if (x1 > x0 && y1 > y0) boxes.push({ x: x0, y: y0, width: x1 - x0, height: y1 - y0, neighbors: r.neighbors });
  }
  return boxes.sort((a, b) => b.width * b.height - a.width * a.height || a.y - b.y || a.x - b.x);
}
