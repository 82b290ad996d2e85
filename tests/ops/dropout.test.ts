import { describe, expect, it } from 'vitest';
import { empty, tensor } from '../../src/backend/create.ts';
import { grid1d } from '../../src/backend/webgpu/kernel.ts';
import {
  dropout, dropoutBackward, dropoutBackwardRef, dropoutGpu, dropoutKeep, dropoutRef, dropoutScale, pcgHash,
} from '../../src/ops/dropout.ts';
import { expectClose } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray, randomInt, rng } from '../support/random.ts';

const randomSeed = (): number => randomInt(0, 0xffffffff);

/** Kept elements are exactly the non-zeros: the inputs are never zero. */
function maskOf(y: ArrayLike<number>): boolean[] {
  return Array.from(y, (v) => v !== 0);
}

/**
 * |count − n·p| ≤ 6σ with σ = √(n·p·(1−p)): for a fair coin per element the chance of a false
 * failure is about 2e-9, while a biased hash (keep fraction off by 1%) fails at n = 10⁵.
 */
function expectBinomial(count: number, n: number, p: number, what: string): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count - n * p), `${what}: ${count} of ${n}, expected ${(n * p).toFixed(0)} ± ${(6 * sigma).toFixed(0)}`).toBeLessThanOrEqual(6 * sigma);
}

describe('dropout: the mask', () => {
  it('pcgHash (Math.imul, >>> 0) matches the published PCG hash written with exact BigInt arithmetic', () => {
    const ref = (v: number): number => {
      const M = 0xffffffffn;
      const state = (BigInt(v) * 747796405n + 2891336453n) & M;
      const word = (((state >> ((state >> 28n) + 4n)) ^ state) * 277803737n) & M;
      return Number((word >> 22n) ^ word);
    };
    const next = rng();
    const values = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, ...Array.from({ length: 1000 }, () => Math.floor(next() * 2 ** 32))];
    for (const v of values) expect(pcgHash(v), `pcgHash(${v})`).toBe(ref(v));
  });

  for (const rate of [0.1, 0.3, 0.5, 0.8]) {
    it(`keeps close to 1 − rate of the elements, rate=${rate}`, () => {
      const n = 100_000;
      const seed = randomSeed();
      let kept = 0;
      for (let i = 0; i < n; i++) if (dropoutKeep(seed, i, rate)) kept++;
      expectBinomial(kept, n, 1 - rate, `seed ${seed}`);
    });
  }

  it('gives unrelated masks for different seeds, including neighbouring ones', () => {
    // Two independent masks agree on an element with probability q = p² + (1−p)².
    const n = 100_000;
    const rate = 0.3;
    const p = 1 - rate;
    const s = (randomSeed() & 0xfffffffe) >>> 0;
    for (const [a, b] of [[s, s + 1], [s, randomSeed()]]) {
      if (a === b) continue;
      let agree = 0;
      for (let i = 0; i < n; i++) if (dropoutKeep(a, i, rate) === dropoutKeep(b, i, rate)) agree++;
      expectBinomial(agree, n, p * p + (1 - p) * (1 - p), `seeds ${a} and ${b}`);
    }
  });

  it('rate 0 is the identity, values and all', async () => {
    const x = randomArray(1001);
    expect(Array.from(await dropout(tensor(x, [7, 11, 13], 'cpu'), 0, randomSeed()).read())).toEqual(Array.from(x));
  });

  it('scales kept elements by 1/(1 − rate) and zeroes the rest', async () => {
    const x = randomArray(500);
    const rate = 0.4;
    const seed = randomSeed();
    const y = await dropout(tensor(x, [500], 'cpu'), rate, seed).read();
    const scale = dropoutScale(rate);
    for (let i = 0; i < x.length; i++) expect(y[i]).toBe(dropoutKeep(seed, i, rate) ? Math.fround(x[i] * scale) : 0);
  });
});

describe('dropout: WebGPU against the CPU twin', () => {
  // Same hash, and x·scale is one correctly rounded float32 product on both sides: bit-identical.
  for (const [shape, rate] of [[[1], 0.5], [[7], 0.3], [[1, 3, 5, 5], 0.5], [[2, 8, 12, 12], 0.25], [[70_001], 0.9]] as const) {
    it.skipIf(!gpu)(`shape [${shape.join(',')}], rate ${rate}: same mask and values, forward and backward`, async () => {
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      const x = randomArray(n);
      const dy = randomArray(n);
      const seed = randomSeed();
      const yc = await dropout(tensor(x, shape, 'cpu'), rate, seed).read();
      const yg = await dropout(tensor(x, shape, 'webgpu'), rate, seed).read();
      expect(maskOf(yg)).toEqual(maskOf(yc));
      expectClose(yg, yc, 0, 'dropout forward');
      const dxc = await dropoutBackward(tensor(dy, shape, 'cpu'), rate, seed).read();
      const dxg = await dropoutBackward(tensor(dy, shape, 'webgpu'), rate, seed).read();
      expectClose(dxg, dxc, 0, 'dropout backward');
      expect(maskOf(dxg)).toEqual(maskOf(yc));
    });
  }

  it.skipIf(!gpu)('a different seed gives a different mask on the GPU too', async () => {
    const n = 4096;
    const x = tensor(randomArray(n), [n], 'webgpu');
    const seed = (randomSeed() & 0xfffffffe) >>> 0;
    const a = maskOf(await dropout(x, 0.5, seed).read());
    const b = maskOf(await dropout(x, 0.5, seed + 1).read());
    const agree = a.filter((k, i) => k === b[i]).length;
    expectBinomial(agree, n, 0.5, 'agreement of seeds s and s+1');
  });

  it.skipIf(!gpu)('the 2-D grid: the shader rebuilds the flat index from both grid dimensions', async () => {
    // Forcing at most 3 workgroups per dimension spills 2000 elements (8 groups) into a 3×3 grid.
    const n = 2000;
    expect(grid1d(n, 256, 3)).toEqual([3, 3, 1]);
    const x = randomArray(n);
    const seed = randomSeed();
    const y = empty([n], 'webgpu');
    dropoutGpu(tensor(x, [n], 'webgpu'), y, 0.5, seed, 3);
    expectClose(await y.read(), await dropout(tensor(x, [n], 'cpu'), 0.5, seed).read(), 0, 'dropout on a 2-D grid');
  });
});

describe('grid1d arithmetic', () => {
  it('covers every index exactly once and stays within the per-dimension limit', () => {
    const wg = 4;
    for (const maxPerDim of [1, 2, 3, 5, 65535]) {
      // a 2-D grid holds at most maxPerDim² workgroups (the WebGPU backend refuses bigger launches)
      for (let threads = 1; threads <= Math.min(90, maxPerDim * maxPerDim * wg); threads++) {
        const [x, y, z] = grid1d(threads, wg, maxPerDim);
        expect(z).toBe(1);
        expect(x).toBeLessThanOrEqual(maxPerDim);
        expect(y).toBeLessThanOrEqual(maxPerDim);
        const seen = new Uint8Array(threads);
        // the shader's rebuild: i = gid.x + gid.y · nwg.x · WORKGROUP
        for (let gy = 0; gy < y; gy++) {
          for (let gx = 0; gx < x * wg; gx++) {
            const i = gx + gy * x * wg;
            if (i < threads) seen[i]++;
          }
        }
        expect(seen.every((c) => c === 1), `threads=${threads} maxPerDim=${maxPerDim}`).toBe(true);
      }
    }
  });

  it('beyond 65535 workgroups the grid goes 2-D', () => {
    expect(grid1d(65535 * 256, 256)).toEqual([65535, 1, 1]);
    expect(grid1d(65535 * 256 + 1, 256)).toEqual([32768, 2, 1]);
  });
});

describe('dropout: gradient', () => {
  it('backward matches finite differences in float64', () => {
    const n = 60;
    const rate = 0.35;
    const seed = randomSeed();
    const x = toF64(randomArray(n));
    const r = toF64(randomArray(n));
    const loss = (v: Float64Array) => {
      const y = new Float64Array(n);
      dropoutRef(v, y, rate, seed);
      return dot(y, r);
    };
    const dx = new Float64Array(n);
    dropoutBackwardRef(r, dx, rate, seed);
    expectGradient('dropout dx', x, loss, dx);
  });
});

describe('dropout: bad input', () => {
  it('rejects a rate outside [0, 1), a bad seed and a disposed tensor, each in one line', () => {
    const x = tensor(randomArray(4), [4], 'cpu');
    expect(() => dropout(x, 1, 0)).toThrow(/^dropout: rate must be in \[0, 1\), got 1$/);
    expect(() => dropout(x, -0.1, 0)).toThrow(/^dropout: rate must be in \[0, 1\), got -0.1$/);
    expect(() => dropout(x, NaN, 0)).toThrow(/rate must be in \[0, 1\), got NaN/);
    expect(() => dropoutBackward(x, 0.5, 1.5)).toThrow(/^dropoutBackward: seed must be an integer in \[0, 2\^32\), got 1.5$/);
    expect(() => dropout(x, 0.5, -1)).toThrow(/seed must be an integer/);
    x.dispose();
    expect(() => dropout(x, 0.5, 0)).toThrow(/^dropout: x \[4\] was disposed$/);
    expect(() => dropoutBackward(x, 0.5, 0)).toThrow(/^dropoutBackward: dy \[4\] was disposed$/);
  });
});
