import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { gemmCpu, gemmThreadCount, gemmThreading } from '../../src/ops/gemm.ts';
import { randomArray } from '../support/random.ts';

// A one-core machine would never start a worker: ask for two, so the threaded path runs anywhere.
if (!process.env.FER_THREADS && availableParallelism() < 2) process.env.FER_THREADS = '2';

// The threaded product must equal the one-thread product bit for bit: every row band is
// computed by the same function on the same packed operands. The reference is gemmCpu itself
// with threading switched off, and each case checks that the threaded path really ran.
describe('gemmCpu across worker threads', () => {
  it('uses every core unless FER_THREADS says otherwise', () => {
    const want = process.env.FER_THREADS ? Number(process.env.FER_THREADS) : Math.min(availableParallelism(), 8);
    expect(gemmThreadCount()).toBe(want);
    expect(gemmThreadCount()).toBeGreaterThan(1);
  });

  // All above the 2^18 multiply-add threshold; M = 8 (two bands), 37 and 129 (a ragged last band).
  for (const [M, N, K] of [[64, 96, 80], [37, 129, 71], [8, 2304, 288], [129, 64, 40]]) {
    for (const [ta, tb, acc] of [[false, false, false], [true, false, true], [false, true, false], [true, true, true]] as const) {
      it(`M=${M} N=${N} K=${K} transA=${ta} transB=${tb} accumulate=${acc}`, () => {
        const a = randomArray(M * K);
        const b = randomArray(K * N);
        const start = randomArray(M * N + 3);
        const product = (threaded: boolean) => {
          const c = start.slice();
          gemmThreading.enabled = threaded;
          const runs = gemmThreading.runs;
          try {
            gemmCpu(M, N, K, { data: a, trans: ta }, { data: b, trans: tb }, c, 3, acc);
          } finally {
            gemmThreading.enabled = true;
          }
          return { c, split: gemmThreading.runs - runs };
        };
        const threaded = product(true);
        const serial = product(false);
        expect(threaded.split, 'the product was split across threads').toBe(1);
        expect(serial.split).toBe(0);
        expect(Buffer.from(threaded.c.buffer).equals(Buffer.from(serial.c.buffer))).toBe(true);
        expect(Array.from(threaded.c.subarray(0, 3))).toEqual(Array.from(start.subarray(0, 3)));
      });
    }
  }

  it('a product below the threshold stays on the calling thread', () => {
    const runs = gemmThreading.runs;
    const c = new Float32Array(16 * 16);
    gemmCpu(16, 16, 16, { data: randomArray(256) }, { data: randomArray(256) }, c);
    expect(gemmThreading.runs).toBe(runs);
  });
});
