import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import type { Shape } from '../../src/backend/tensor.ts';
import { argmaxRows, sumAll, sumChannels } from '../../src/ops/reduce.ts';
import { GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray, randomInt } from '../support/random.ts';

const sizeOf = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

const summands = (n: number) => randomArray(n, -0.5, 1);

/**
 * A float32 sum's rounding error grows with Σ|x|, not with the sum itself: a few terms of mixed
 * sign can cancel to nearly zero (once, seven terms summed to ~4e-4 and the normwise relative
 * error was 7e-4), so each sum is held to GPU_TOLERANCE · Σ|x| of its own terms. A wrong or
 * missing term still errs by a whole term, far above that.
 */
function expectSumsClose(got: ArrayLike<number>, want: ArrayLike<number>, absoluteSums: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i]), `${what}[${i}] is ${got[i]} (unwritten or overflowed)`).toBe(true);
    const bound = GPU_TOLERANCE * absoluteSums[i];
    expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} against ${want[i]}, bound ${bound.toExponential(2)} (Σ|x| = ${absoluteSums[i]})`).toBeLessThanOrEqual(bound);
  }
}

describe('reductions: the CPU reference', () => {
  it('sumChannels sums over every axis but 1', async () => {
    // x[n,c,h,w] = 1000n + 100c + 10h + w, N=2 C=3 H=1 W=2
    const x = [0, 1, 100, 101, 200, 201, 1000, 1001, 1100, 1101, 1200, 1201];
    expect(Array.from(await sumChannels(tensor(x, [2, 3, 1, 2], 'cpu')).read())).toEqual([2002, 2402, 2802]);
    expect(Array.from(await sumChannels(tensor([1, 2, 3, 4, 5, 6], [2, 3], 'cpu')).read())).toEqual([5, 7, 9]);
  });

  it('sumAll and argmaxRows on hand-checked values', async () => {
    expect(Array.from(await sumAll(tensor([1, 2, 3, 4, 5, 6], [3, 1, 2], 'cpu')).read())).toEqual([21]);
    expect(Array.from(await sumAll(tensor([], [0, 4], 'cpu')).read())).toEqual([0]);
    const x = [0.5, 2, 2, -1, /**/ -3, -2, -2.5, -4, /**/ 7, 1, 7, 7];
    expect(Array.from(await argmaxRows(tensor(x, [3, 4], 'cpu')).read())).toEqual([1, 1, 0]);
  });
});

describe('reductions: WebGPU against the CPU twin', () => {
  const channelShapes: Shape[] = [[1, 1], [1, 7], [5, 3], [64, 7], [3, 1000], [1, 1, 1, 1], [2, 3, 5, 5], [3, 8, 12, 12], [1, 5, 48, 48], [7, 2, 1, 3]];
  for (const shape of channelShapes) {
    it.skipIf(!gpu)(`sumChannels [${shape.join(',')}]`, async () => {
      const x = summands(sizeOf(shape));
      const want = await sumChannels(tensor(x, shape, 'cpu')).read();
      const absolute = await sumChannels(tensor(x.map(Math.abs), shape, 'cpu')).read();
      expectSumsClose(await sumChannels(tensor(x, shape, 'webgpu')).read(), want, absolute, 'sumChannels');
    });
  }

  for (const shape of [[1], [7], [256], [257], [1000], [3, 5, 7, 9], [70_001]] as Shape[]) {
    it.skipIf(!gpu)(`sumAll [${shape.join(',')}]`, async () => {
      const x = summands(sizeOf(shape));
      const want = await sumAll(tensor(x, shape, 'cpu')).read();
      const magnitude = x.reduce((sum, v) => sum + Math.abs(v), 0);
      expectSumsClose(await sumAll(tensor(x, shape, 'webgpu')).read(), want, [magnitude], 'sumAll');
    });
  }

  it.skipIf(!gpu)('sumAll of an empty tensor is 0', async () => {
    expect(Array.from(await sumAll(tensor([], [0], 'webgpu')).read())).toEqual([0]);
  });

  for (const [N, K] of [[1, 1], [1, 7], [9, 3], [300, 7], [65, 129]]) {
    it.skipIf(!gpu)(`argmaxRows [${N},${K}], random and with ties`, async () => {
      const x = randomArray(N * K);
      // values from {1, 2, 3}: most rows hold a tied maximum, and the first one must win
      const ties = Float32Array.from({ length: N * K }, () => randomInt(1, 3));
      for (const v of [x, ties]) {
        const want = await argmaxRows(tensor(v, [N, K], 'cpu')).read();
        expect(Array.from(await argmaxRows(tensor(v, [N, K], 'webgpu')).read())).toEqual(Array.from(want));
      }
    });
  }
});

describe('reductions: bad input', () => {
  it('rejects shapes of the wrong rank, in one line each', () => {
    expect(() => sumChannels(tensor(randomArray(6), [1, 2, 3], 'cpu'))).toThrow(/^sumChannels: x has shape \[1,2,3\], wanted rank 2 \[N,C\] or rank 4 \[N,C,H,W\]$/);
    expect(() => argmaxRows(tensor(randomArray(6), [6], 'cpu'))).toThrow(/^argmaxRows: x has shape \[6\], wanted rank 2 \[N,K\]$/);
    expect(() => argmaxRows(tensor([], [3, 0], 'cpu'))).toThrow(/^argmaxRows: the row length of x must be a positive integer, got 0$/);
  });

  it('rejects disposed tensors, in one line each', () => {
    const x = tensor(randomArray(6), [2, 3], 'cpu');
    x.dispose();
    expect(() => sumChannels(x)).toThrow(/^sumChannels: x \[2,3\] was disposed$/);
    expect(() => sumAll(x)).toThrow(/^sumAll: x \[2,3\] was disposed$/);
    expect(() => argmaxRows(x)).toThrow(/^argmaxRows: x \[2,3\] was disposed$/);
  });
});
