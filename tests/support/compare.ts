import { expect } from 'vitest';

/**
 * Normwise relative error max|a-b| / max|b|. Elementwise relative error is meaningless near
 * zero, where a sum of terms of mixed sign can cancel to almost nothing.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!Number.isFinite(a) || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(b));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * GPU against the CPU twin. Both accumulate in float32 (unit roundoff 6e-8) but in different
 * orders; for the sums here (at most a few thousand terms of similar size) the difference stays
 * near 1e-6 of the largest output, so 1e-4 leaves room without hiding a wrong index, which
 * gives errors of order 1.
 */
export const GPU_TOLERANCE = 1e-4;

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let firstBad = -1;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i])) {
      firstBad = i;
      break;
    }
  }
  expect(firstBad, `${what}: element ${firstBad} is ${actual[firstBad]} (unwritten or overflowed)`).toBe(-1);
  const err = relativeError(actual, expected);
  expect(err, `${what}: relative error ${err.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
}

/**
 * |actual[i] − expected[i]| ≤ bound (or bound[i]) everywhere, for results that cancel: a sum of
 * terms of mixed sign can come out near zero, where rounding is a large relative error of the
 * result but a small one of its terms, so the bound is set from the terms' size.
 */
export function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: number | ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const b = typeof bound === 'number' ? bound : bound[i];
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= b)) expect.fail(`${what}: element ${i} is ${actual[i]}, wanted ${expected[i]} ± ${b.toExponential(2)}`);
  }
}

/**
 * Bounds for comparing batch norm's backward pass on two backends, from the size of each
 * result's terms: dx_i = γ·invStd·(dy_i − mean dy − x̂_i·mean(dy·x̂)) gets
 * tol·|γ·invStd|·(|dy_i| + mean|dy| + |x̂_i|·mean|dy·x̂|), dγ = Σ dy·x̂ gets tol·Σ|dy·x̂| and
 * dβ = Σ dy gets tol·Σ|dy|, over the channel (x̂ = (x − mean)·invStd). x and dy are [N, C, ...].
 */
export function batchNormBackwardBounds(
  x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>, mean: ArrayLike<number>, invStd: ArrayLike<number>,
  shape: readonly number[], tol: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const [N, C] = shape;
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  const m = N * S;
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  const at = (n: number, c: number, s: number) => (n * C + c) * S + s;
  for (let c = 0; c < C; c++) {
    let absDy = 0;
    let absDyXhat = 0;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = at(n, c, s);
        absDy += Math.abs(dy[i]);
        absDyXhat += Math.abs(dy[i] * (x[i] - mean[c]) * invStd[c]);
      }
    }
    dgamma[c] = tol * absDyXhat;
    dbeta[c] = tol * absDy;
    const scale = Math.abs(gamma[c] * invStd[c]);
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const i = at(n, c, s);
        dx[i] = tol * scale * (Math.abs(dy[i]) + absDy / m + Math.abs((x[i] - mean[c]) * invStd[c]) * (absDyXhat / m));
      }
    }
  }
  return { dx, dgamma, dbeta };
}
