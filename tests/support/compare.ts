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
