/**
 * Integral images, as OpenCV's cv::integral writes them: (w+1)×(h+1) tables with a zero first
 * row and column, stored with a row stride ≥ w+1 so every pyramid level can share one buffer
 * (and one set of precomputed feature offsets).
 *
 *   sum(X, Y)    = Σ_{x<X, y<Y} I(x, y)
 *   sqsum(X, Y)  = Σ_{x<X, y<Y} I(x, y)²
 *   tilted(X, Y) = Σ_{y<Y, |x−X+1| ≤ Y−y−1} I(x, y)      (a triangle with its apex at (X−1, Y−1))
 *
 * Tables are Int32Array like OpenCV's CV_32S: on a huge image they wrap modulo 2³², and a
 * rectangle's four-corner difference, taken modulo 2³² again, is still exact.
 */

/** The sum of the upright rectangle [x, x+w) × [y, y+h). */
export function rectSum(sum: Int32Array, stride: number, x: number, y: number, w: number, h: number): number {
  return (sum[y * stride + x] - sum[y * stride + x + w] - sum[(y + h) * stride + x] + sum[(y + h) * stride + x + w]) | 0;
}

/**
 * The sum of a 45°-rotated rectangle with its top corner at (x, y), sides of w pixels running
 * down-right and h running down-left (OpenCV's CV_TILTED_OFS): it covers 2·w·h pixels.
 */
export function tiltedRectSum(tilted: Int32Array, stride: number, x: number, y: number, w: number, h: number): number {
  const at = (X: number, Y: number) => tilted[Y * stride + X];
  return (at(x, y) - at(x - h, y + h) - at(x + w, y + w) + at(x + w - h, y + w + h)) | 0;
}

/** Fills `sum` and `sqsum` (row stride `stride`) for the w×h image `src`. */
export function integral(src: ArrayLike<number>, w: number, h: number, stride: number, sum: Int32Array, sqsum: Int32Array): void {
  for (let X = 0; X <= w; X++) {
    sum[X] = 0;
    sqsum[X] = 0;
  }
  for (let y = 0; y < h; y++) {
    const row = (y + 1) * stride;
    const above = y * stride;
    sum[row] = 0;
    sqsum[row] = 0;
    let s = 0;
    let sq = 0;
    for (let x = 0; x < w; x++) {
      const v = src[y * w + x];
      s += v;
      sq += v * v;
      sum[row + x + 1] = s + sum[above + x + 1];
      sqsum[row + x + 1] = sq + sqsum[above + x + 1];
    }
  }
}

/**
 * Fills `tilted` (row stride `stride`) for the w×h image `src`. The triangle sums obey
 *   T(c, r) = T(c−1, r−1) + T(c+1, r−1) − T(c, r−2) + I(c, r) + I(c, r−1)
 * for the triangle T(c, r) with apex at column c, row r; the recurrence runs over columns
 * widened by h on each side, since triangles whose apex lies outside the image still reach in.
 */
export function tiltedIntegral(src: ArrayLike<number>, w: number, h: number, stride: number, tilted: Int32Array): void {
  const pad = h + 2;
  const width = w + 2 * pad;
  const rows = [new Float64Array(width), new Float64Array(width), new Float64Array(width)];
  const pixel = (c: number, r: number) => (c >= 0 && c < w && r >= 0 ? src[r * w + c] : 0);
  for (let X = 0; X <= w; X++) tilted[X] = 0;
  for (let r = 0; r < h; r++) {
    const cur = rows[r % 3];
    const prev = rows[(r + 2) % 3];
    const prev2 = rows[(r + 1) % 3];
    for (let i = 0; i < width; i++) {
      const c = i - pad;
      const left = i > 0 && r >= 1 ? prev[i - 1] : 0;
      const right = i < width - 1 && r >= 1 ? prev[i + 1] : 0;
      const back = r >= 2 ? prev2[i] : 0;
      cur[i] = left + right - back + pixel(c, r) + pixel(c, r - 1);
    }
    // tilted(X, r+1) is the triangle with apex (X−1, r).
    for (let X = 0; X <= w; X++) tilted[(r + 1) * stride + X] = cur[X - 1 + pad];
  }
}
