import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { gemmCpu, gemmRows, gemmThreadCount } from '../../src/ops/gemm.ts';
import { randomArray } from '../support/random.ts';

// The threaded product must equal the one-thread product bit for bit: every row band is
// computed by the same function on the same packed operands.
describe('gemmCpu across worker threads', () => {
  it('uses every core unless FER_THREADS says otherwise', () => {
    const want = process.env.FER_THREADS ? Number(process.env.FER_THREADS) : Math.min(availableParallelism(), 8);
    expect(gemmThreadCount()).toBe(want);
  });

  for (const [M, N, K] of [[64, 96, 80], [37, 129, 71], [8, 2304, 288], [256, 100, 9]]) {
    for (const [ta, tb, acc] of [[false, false, false], [true, false, true], [false, true, false], [true, true, true]] as const) {
      it(`M=${M} N=${N} K=${K} transA=${ta} transB=${tb} accumulate=${acc}`, () => {
        const a = randomArray(M * K);
        const b = randomArray(K * N);
        const start = randomArray(M * N + 3);
        const threaded = start.slice();
        gemmCpu(M, N, K, { data: a, trans: ta }, { data: b, trans: tb }, threaded, 3, acc);
        // The single-thread reference: pack by hand, run all rows on this thread.
        const pa = new Float32Array(M * K);
        const pb = new Float32Array(N * K);
        for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) pa[m * K + k] = ta ? a[k * M + m] : a[m * K + k];
        for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) pb[n * K + k] = tb ? b[n * K + k] : b[k * N + n];
        const serial = start.slice();
        gemmRows(pa, pb, serial, M, N, K, 0, M, 3, acc);
        expect(Buffer.from(threaded.buffer).equals(Buffer.from(serial.buffer))).toBe(true);
      });
    }
  }
});
