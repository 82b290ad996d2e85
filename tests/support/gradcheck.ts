import { expect } from 'vitest';
import { relativeError } from './compare.ts';

/**
 * Central finite differences in float64: dL/dx_i ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h.
 * The CPU reference kernels accept Float64Array, so L is computed in double precision: the
 * truncation error is O(h²) ≈ 1e-10 and the rounding error about 1e-16·|L|/h ≈ 1e-11, so an
 * analytic gradient must agree to 1e-6 relative (a wrong term gives errors of order 1).
 */
export const GRAD_TOLERANCE = 1e-6;

export function numericalGradient(x: Float64Array, loss: (x: Float64Array) => number, h = 1e-5, indices?: number[]): Float64Array {
  const g = new Float64Array(x.length).fill(NaN);
  const which = indices ?? Array.from(x.keys());
  for (const i of which) {
    const keep = x[i];
    x[i] = keep + h;
    const up = loss(x);
    x[i] = keep - h;
    const down = loss(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** L = Σ y·r for a fixed random r: its gradient with respect to y is r, the dy we feed backward. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function toF64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

/**
 * Checks `analytic` against finite differences of `loss` at x, on every coordinate or, for big
 * inputs, on `samples` of them chosen by `pick`.
 */
export function expectGradient(
  what: string,
  x: Float64Array,
  loss: (x: Float64Array) => number,
  analytic: ArrayLike<number>,
  options: { samples?: number; pick?: () => number; h?: number; tol?: number } = {},
): void {
  let indices: number[] | undefined;
  if (options.samples !== undefined && options.samples < x.length) {
    const pick = options.pick ?? Math.random;
    indices = Array.from({ length: options.samples }, () => Math.floor(pick() * x.length));
  }
  const numeric = numericalGradient(x, loss, options.h, indices);
  const idx = indices ?? Array.from(x.keys());
  const a = idx.map((i) => analytic[i]);
  const n = idx.map((i) => numeric[i]);
  const err = relativeError(a, n);
  expect(err, `${what}: gradient relative error ${err.toExponential(2)}`).toBeLessThanOrEqual(options.tol ?? GRAD_TOLERANCE);
}
