import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { pairwiseDistance, pairwiseDistanceCpu, pairwiseDistanceRef, type Metric } from '../../src/ops/pairwise-distance.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray } from '../support/random.ts';

/** The plain specification in float64: what every fast path is measured against. */
function reference(a: Float32Array, b: Float32Array, M: number, N: number, K: number, metric: Metric): Float64Array {
  const d = new Float64Array(M * N);
  pairwiseDistanceRef(Float64Array.from(a), Float64Array.from(b), d, M, N, K, metric);
  return d;
}

// [M, N, K]: odd sizes, a single row on either side, blocks that are and are not multiples of 4,
// and one big enough for the CPU path to split across worker threads.
const SHAPES: [number, number, number][] = [[1, 1, 1], [1, 9, 5], [7, 1, 13], [5, 11, 3], [33, 37, 17], [64, 40, 48], [41, 130, 72]];

describe('pairwiseDistance', () => {
  for (const metric of ['l1', 'l2'] as const) {
    for (const [M, N, K] of SHAPES) {
      // Float32 sums of K ≤ 72 non-negative terms: relative rounding error about K·6e-8 ≈ 4e-6.
      // The l2 fast path's ‖a‖² + ‖b‖² − 2a·b cancels, but for these random inputs the largest
      // distance is of the order of the norms, so the normwise error stays near 1e-6 as well.
      it(`CPU fast path matches the float64 reference, ${metric}, M=${M} N=${N} K=${K}`, () => {
        const a = randomArray(M * K);
        const b = randomArray(N * K);
        const d = new Float32Array(M * N).fill(NaN);
        pairwiseDistanceCpu(a, b, d, M, N, K, metric);
        expectClose(d, reference(a, b, M, N, K, metric), GPU_TOLERANCE, `cpu ${metric}`);
      });

      it.skipIf(!gpu)(`WebGPU matches the CPU twin, ${metric}, M=${M} N=${N} K=${K}`, async () => {
        const a = randomArray(M * K, -3, 5);
        const b = randomArray(N * K, -3, 5);
        const dc = pairwiseDistance(tensor(a, [M, K], 'cpu'), tensor(b, [N, K], 'cpu'), metric);
        const dg = pairwiseDistance(tensor(a, [M, K], 'webgpu'), tensor(b, [N, K], 'webgpu'), metric);
        expect(dg.shape).toEqual([M, N]);
        // Output poisoned with NaN (tests/support/setup.ts): an unwritten element fails here.
        expectClose(await dg.read(), await dc.read(), GPU_TOLERANCE, `webgpu ${metric}`);
      });
    }
  }

  it('l1 of integer pixels is exact: 0–255 values sum exactly in float32', () => {
    const M = 9, N = 13, K = 2304;
    const px = (n: number) => Float32Array.from(randomArray(n, 0, 256), (v) => Math.floor(v));
    const a = px(M * K);
    const b = px(N * K);
    const d = new Float32Array(M * N);
    pairwiseDistanceCpu(a, b, d, M, N, K, 'l1');
    expect(Array.from(d)).toEqual(Array.from(reference(a, b, M, N, K, 'l1')));
  });

  it('a row against itself is at distance 0 and the metrics differ where they should', async () => {
    const a = tensor([0, 0, 3, 4], [2, 2], 'cpu');
    expect(Array.from(await pairwiseDistance(a, a, 'l1').read())).toEqual([0, 7, 7, 0]);
    expect(Array.from(await pairwiseDistance(a, a, 'l2').read())).toEqual([0, 25, 25, 0]);
  });

  it('rejects rows of different lengths, a disposed tensor, a wrong rank and an unknown metric, each in one line', () => {
    const a = tensor(randomArray(6), [2, 3], 'cpu');
    const b = tensor(randomArray(8), [2, 4], 'cpu');
    expect(() => pairwiseDistance(a, b, 'l1')).toThrow(/^pairwiseDistance: a \[2,3\] and b \[2,4\] have rows of different lengths \(3 and 4\)/);
    expect(() => pairwiseDistance(a, tensor(randomArray(6), [6], 'cpu'), 'l1')).toThrow(/pairwiseDistance: b has shape \[6\], wanted rank 2/);
    expect(() => pairwiseDistance(a, a, 'cosine' as Metric)).toThrow(/pairwiseDistance: metric must be l1 or l2, got "cosine"/);
    const gone = tensor(randomArray(6), [2, 3], 'cpu');
    gone.dispose();
    expect(() => pairwiseDistance(a, gone, 'l2')).toThrow(/pairwiseDistance: b \[2,3\] was disposed/);
    for (const f of [() => pairwiseDistance(a, b, 'l1'), () => pairwiseDistance(a, gone, 'l2')]) {
      try {
        f();
      } catch (e) {
        expect((e as Error).message).not.toMatch(/\n/);
      }
    }
  });
});
