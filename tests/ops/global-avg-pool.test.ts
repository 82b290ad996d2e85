import { describe, expect, it } from 'vitest';
import { empty, tensor } from '../../src/backend/create.ts';
import {
  globalAvgPool,
  globalAvgPoolBackward,
  globalAvgPoolBackwardGpu,
  globalAvgPoolBackwardRef,
  globalAvgPoolGpu,
  globalAvgPoolRef,
  globalPoolGeometry,
} from '../../src/ops/global-avg-pool.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

// [N, C, H, W]: one pixel per plane, a single plane, odd sides, the vgg model's 5×5 top, and a
// 48×48 plane (the longest loop); more planes than one workgroup of 256.
type Case = [number, number, number, number];
const CASES: Case[] = [
  [1, 1, 1, 1],
  [1, 1, 4, 4],
  [2, 3, 7, 5],
  [3, 192, 5, 5],
  [2, 2, 48, 48],
  [5, 60, 3, 2],
];

describe('globalAvgPool: the CPU reference', () => {
  it('hand-checked means and the even spread of the gradient', async () => {
    // plane 0: 1..4 → 2.5; plane 1: −2, 0, 2, 8 → 2
    const x = tensor([1, 2, 3, 4, -2, 0, 2, 8], [1, 2, 2, 2], 'cpu');
    expect(Array.from(await globalAvgPool(x).read())).toEqual([2.5, 2]);
    const dx = await globalAvgPoolBackward(tensor([4, -8], [1, 2], 'cpu'), [1, 2, 2, 2]).read();
    expect(Array.from(dx)).toEqual([1, 1, 1, 1, -2, -2, -2, -2]);
  });

  for (const [N, C, H, W] of CASES) {
    it(`forward is the mean of each plane, backward equals finite differences: [${[N, C, H, W]}]`, () => {
      const g = globalPoolGeometry([N, C, H, W]);
      const x = toF64(randomArray(N * C * H * W));
      const y = new Float64Array(N * C);
      globalAvgPoolRef(g, x, y);
      for (const plane of [0, N * C - 1]) {
        const vals = x.subarray(plane * H * W, (plane + 1) * H * W);
        expect(y[plane]).toBeCloseTo(vals.reduce((a, b) => a + b, 0) / (H * W), 12);
      }
      const r = toF64(randomArray(N * C));
      const dx = new Float64Array(x.length);
      globalAvgPoolBackwardRef(g, r, dx);
      const loss = (v: Float64Array) => {
        const out = new Float64Array(N * C);
        globalAvgPoolRef(g, v, out);
        return dot(out, r);
      };
      expectGradient('global avg pool dx', x, loss, dx, { samples: 200 });
    });
  }
});

describe('globalAvgPool: WebGPU against the CPU twin', () => {
  for (const [N, C, H, W] of CASES) {
    it.skipIf(!gpu)(`[${[N, C, H, W]}]`, async () => {
      const x = randomArray(N * C * H * W);
      const dy = randomArray(N * C);
      const want = await globalAvgPool(tensor(x, [N, C, H, W], 'cpu')).read();
      expectClose(await globalAvgPool(tensor(x, [N, C, H, W], 'webgpu')).read(), want, GPU_TOLERANCE, 'global avg pool forward');
      const wantDx = await globalAvgPoolBackward(tensor(dy, [N, C], 'cpu'), [N, C, H, W]).read();
      const gotDx = await globalAvgPoolBackward(tensor(dy, [N, C], 'webgpu'), [N, C, H, W]).read();
      expectClose(gotDx, wantDx, GPU_TOLERANCE, 'global avg pool backward');
    });
  }

  it.skipIf(!gpu)('launches past one grid row (2-D grid)', async () => {
    const shape = [3, 200, 2, 3]; // 600 planes: 3 workgroups, one per row with maxPerDim 1
    const g = globalPoolGeometry(shape);
    const x = randomArray(3 * 200 * 6);
    const dy = randomArray(600);
    const y = empty([3, 200], 'webgpu');
    globalAvgPoolGpu(g, tensor(x, shape, 'webgpu'), y, 1);
    expectClose(await y.read(), await globalAvgPool(tensor(x, shape, 'cpu')).read(), GPU_TOLERANCE, 'forward, 2-D grid');
    const dx = empty(shape, 'webgpu');
    globalAvgPoolBackwardGpu(g, tensor(dy, [3, 200], 'webgpu'), dx, 1);
    const want = await globalAvgPoolBackward(tensor(dy, [3, 200], 'cpu'), shape).read();
    expectClose(await dx.read(), want, GPU_TOLERANCE, 'backward, 2-D grid');
  });
});

describe('globalAvgPool: bad input', () => {
  it('rejects shapes that do not fit, in one line each', () => {
    expect(() => globalAvgPool(tensor(randomArray(12), [3, 4], 'cpu'))).toThrow(/^globalAvgPool: x has shape \[3,4\], wanted rank 4 \[N,C,H,W\] with positive sizes$/);
    expect(() => globalAvgPoolBackward(tensor(randomArray(6), [2, 3], 'cpu'), [2, 3, 4])).toThrow(
      /^globalAvgPoolBackward: the input shape has shape \[2,3,4\], wanted rank 4 \[N,C,H,W\] with positive sizes$/,
    );
    expect(() => globalAvgPoolBackward(tensor(randomArray(6), [3, 2], 'cpu'), [2, 3, 4, 4])).toThrow(
      /^globalAvgPoolBackward: dy has shape \[3,2\], wanted \[2,3\] like the forward output$/,
    );
  });

  it('rejects disposed tensors, in one line', () => {
    const t = tensor(randomArray(24), [1, 2, 3, 4], 'cpu');
    t.dispose();
    expect(() => globalAvgPool(t)).toThrow(/^globalAvgPool: x \[1,2,3,4\] was disposed$/);
  });
});
