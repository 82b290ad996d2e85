import { describe, expect, it } from 'vitest';
import type { Floats } from '../../src/backend/cpu.ts';
import { empty, tensor } from '../../src/backend/create.ts';
import {
  maxPool2d,
  maxPool2dBackward,
  maxPool2dBackwardGpu,
  maxPool2dBackwardRef,
  maxPool2dGpu,
  maxPoolPath,
  type MaxPoolPath,
  maxPool2dRef,
  pool2dGeometry,
  type Pool2dGeometry,
  type Pool2dOptions,
} from '../../src/ops/maxpool2d.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray, randomInt, rng, TEST_SEED } from '../support/random.ts';

/** The definition with Math.max, no argmax: checks the reference's forward independently. */
function maxPoolDirect(g: Pool2dGeometry, x: Floats): Float64Array {
  const y = new Float64Array(g.N * g.C * g.OH * g.OW);
  let o = 0;
  for (let plane = 0; plane < g.N * g.C; plane++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) {
        let m = -Infinity;
        for (let r = 0; r < g.size; r++) {
          for (let s = 0; s < g.size; s++) {
            const ih = oh * g.stride + r - g.padTop;
            const iw = ow * g.stride + s - g.padLeft;
            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) m = Math.max(m, x[(plane * g.H + ih) * g.W + iw]);
          }
        }
        y[o++] = m;
      }
    }
  }
  return y;
}

/**
 * Distinct values at least 2/n apart in random order: finite differences with h = 1e-5 never
 * move a window's maximum (random floats could tie within 2h and make the max non-differentiable).
 */
function distinctValues(n: number, next = rng(TEST_SEED + 1)): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => -1 + (2 * (i + 0.5)) / n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

/** Values from {1, 2, 3}: most windows hold a tied maximum, where the first one must win. */
const tiedValues = (n: number) => Float32Array.from({ length: n }, () => randomInt(1, 3));

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const opt = (size: number, stride: number, padding: 'valid' | 'same'): Pool2dOptions => ({ size, stride, padding });

// [N, C, H, W, size, stride, padding]: 2×2/2 (even and odd images), 3×3/2, overlapping 2×2/1 and
// 3×3/1, stride > size (pixels in no window), 'same' with padding on one or both sides, batch 1.
type Case = [number, number, number, number, number, number, 'valid' | 'same'];
const CASES: Case[] = [
  [1, 1, 4, 4, 2, 2, 'valid'],
  [2, 3, 7, 9, 2, 2, 'valid'],
  [3, 2, 11, 11, 2, 2, 'same'],
  [1, 2, 9, 7, 3, 2, 'valid'],
  [2, 2, 7, 8, 3, 2, 'same'],
  [1, 3, 6, 5, 2, 1, 'valid'],
  [2, 2, 5, 7, 2, 1, 'same'],
  [1, 1, 5, 5, 3, 1, 'same'],
  [2, 1, 6, 6, 3, 3, 'valid'],
  [1, 2, 8, 7, 2, 3, 'valid'],
  [2, 4, 23, 23, 2, 2, 'valid'],
  [1, 2, 6, 5, 2, 2, 'valid'],
  [2, 3, 8, 10, 2, 2, 'same'],
];

describe('maxpool2d: geometry', () => {
  it('valid: whole windows only (Keras), 46→23→11→5 for 2×2/2', () => {
    const chain = [46, 23, 11].map((h) => pool2dGeometry([1, 1, h, h]).OH);
    expect(chain).toEqual([23, 11, 5]);
    expect(pool2dGeometry([2, 3, 9, 7], opt(3, 2, 'valid'))).toEqual({ N: 2, C: 3, H: 9, W: 7, size: 3, stride: 2, OH: 4, OW: 3, padTop: 0, padLeft: 0 });
    expect(pool2dGeometry([1, 1, 5, 6], { size: 3 })).toMatchObject({ stride: 3, OH: 1, OW: 2 });
  });

  it("same: TensorFlow's rule, OH = ceil(H/stride), the odd padding cell at the bottom/right", () => {
    // H=5, 3×3/2: OH=3, padTotal = 2·2+3−5 = 2, padTop 1
    expect(pool2dGeometry([1, 1, 5, 5], opt(3, 2, 'same'))).toMatchObject({ OH: 3, OW: 3, padTop: 1, padLeft: 1 });
    // H=5, 2×2/2: OH=3, padTotal = 4+2−5 = 1, padTop 0; W=4: OW=2, no padding
    expect(pool2dGeometry([1, 1, 5, 4], opt(2, 2, 'same'))).toMatchObject({ OH: 3, OW: 2, padTop: 0, padLeft: 0 });
    // 2×2/1 on 4: OH=4, padTotal 1, padTop 0; 3×3/1 on 4: padTotal 2, padTop 1
    expect(pool2dGeometry([1, 1, 4, 4], opt(2, 1, 'same'))).toMatchObject({ OH: 4, padTop: 0 });
    expect(pool2dGeometry([1, 1, 4, 4], opt(3, 1, 'same'))).toMatchObject({ OH: 4, padTop: 1 });
  });
});

describe('maxpool2d: the CPU reference', () => {
  it('forward and backward on a hand-checked 4×4 image with ties', async () => {
    // windows: [1 3; 3 2] → 3, the first 3 (0,1) wins; [5 5; 5 5] → 5 at (0,2);
    //          [-1 -2; -3 -4] → -1 at (2,0); [0 7; 7 0] → 7 at (2,3)
    const x = [1, 3, 5, 5, 3, 2, 5, 5, -1, -2, 0, 7, -3, -4, 7, 0];
    const xt = tensor(x, [1, 1, 4, 4], 'cpu');
    expect(Array.from(await maxPool2d(xt).read())).toEqual([3, 5, -1, 7]);
    const dx = await maxPool2dBackward(xt, tensor([10, 20, 30, 40], [1, 1, 2, 2], 'cpu')).read();
    expect(Array.from(dx)).toEqual([0, 10, 20, 0, 0, 0, 0, 0, 30, 0, 0, 40, 0, 0, 0, 0]);
  });

  it('overlapping windows add their gradients at a shared maximum', async () => {
    // 2×2/1 on [[1,2,1],[2,9,2],[1,2,1]]: all four windows pick the centre
    const xt = tensor([1, 2, 1, 2, 9, 2, 1, 2, 1], [1, 1, 3, 3], 'cpu');
    const o = opt(2, 1, 'valid');
    expect(Array.from(await maxPool2d(xt, o).read())).toEqual([9, 9, 9, 9]);
    const dx = await maxPool2dBackward(xt, tensor([1, 2, 3, 4], [1, 1, 2, 2], 'cpu'), o).read();
    expect(Array.from(dx)).toEqual([0, 0, 0, 0, 10, 0, 0, 0, 0]);
  });

  it("'same' padding never wins, even over negative values", async () => {
    // 3×3/2 same on 3×3: OH=2, padTop 1, window (0,0) covers rows/cols −1..1
    const x = [-5, -4, -9, -8, -6, -7, -3, -2, -1];
    const o = opt(3, 2, 'same');
    expect(Array.from(await maxPool2d(tensor(x, [1, 1, 3, 3], 'cpu'), o).read())).toEqual([-4, -4, -2, -1]);
  });

  for (const c of CASES) {
    it(`forward equals the definition, backward equals finite differences: [${c}]`, () => {
      const [N, C, H, W, sz, stride, padding] = c;
      const g = pool2dGeometry([N, C, H, W], opt(sz, stride, padding));
      const x = distinctValues(N * C * H * W);
      const y = new Float64Array(N * C * g.OH * g.OW);
      maxPool2dRef(g, x, y);
      expect(Array.from(y)).toEqual(Array.from(maxPoolDirect(g, x)));
      const r = toF64(randomArray(y.length));
      const dx = new Float64Array(x.length);
      maxPool2dBackwardRef(g, x, r, dx);
      const loss = (v: Float64Array) => {
        const out = new Float64Array(y.length);
        maxPool2dRef(g, v, out);
        return dot(out, r);
      };
      expectGradient('maxpool dx', x, loss, dx, { samples: 200 });
    });
  }
});

describe('maxpool2d: WebGPU against the CPU twin', () => {
  for (const c of CASES) {
    it.skipIf(!gpu)(`[${c}], random values and ties`, async () => {
      const [N, C, H, W, sz, stride, padding] = c;
      const o = opt(sz, stride, padding);
      const g = pool2dGeometry([N, C, H, W], o);
      const dy = randomArray(N * C * g.OH * g.OW);
      for (const x of [randomArray(N * C * H * W), tiedValues(N * C * H * W)]) {
        const xc = tensor(x, [N, C, H, W], 'cpu');
        const xg = tensor(x, [N, C, H, W], 'webgpu');
        // a maximum is one of the inputs, computed without rounding: equal bit for bit
        expectClose(await maxPool2d(xg, o).read(), await maxPool2d(xc, o).read(), 0, 'maxpool forward');
        // Both add a pixel's dy terms in the same order, in float32, so they agree to rounding
        // (WGSL may contract or reorder); a gradient sent to the wrong pixel is an error of order 1.
        const want = await maxPool2dBackward(xc, tensor(dy, [N, C, g.OH, g.OW], 'cpu'), o).read();
        const got = await maxPool2dBackward(xg, tensor(dy, [N, C, g.OH, g.OW], 'webgpu'), o).read();
        expectClose(got, want, GPU_TOLERANCE, 'maxpool backward');
      }
    });
  }

  it.skipIf(!gpu)('non-overlapping windows: the per-window kernel (one tile per window) equals the per-input kernel, 2-D grid too', async () => {
    // stride = size (odd sizes: a last row and column in no window), stride > size (gaps), 'same' padding.
    for (const [N, C, H, W, sz, stride, padding] of CASES.filter(([, , , , sz, st]) => st >= sz)) {
      const shape = [N, C, H, W];
      const o = opt(sz, stride, padding);
      const g = pool2dGeometry(shape, o);
      const yShape = [g.N, g.C, g.OH, g.OW];
      const xg = tensor(tiedValues(size(shape)), shape, 'webgpu');
      const dyg = tensor(randomArray(size(yShape)), yShape, 'webgpu');
      const perInput = empty(shape, 'webgpu');
      maxPool2dBackwardGpu(g, xg, dyg, perInput, 65535, 'per-input');
      const tiles = empty(shape, 'webgpu');
      maxPool2dBackwardGpu(g, xg, dyg, tiles, 1, 'tiles');
      // One term per pixel at most (windows do not overlap): equal bit for bit.
      expect(Array.from(await tiles.read())).toEqual(Array.from(await perInput.read()));
    }
  });

  it.skipIf(!gpu)('2×2 windows at stride 2: the written-out kernels equal the general ones bit for bit, 2-D grid too', async () => {
    const twoByTwo = CASES.filter((c) => maxPoolPath(pool2dGeometry(c.slice(0, 4) as number[], opt(c[4], c[5], c[6]))) === '2x2');
    // even and odd heights and widths (an odd last row or column is in no window)
    expect(twoByTwo.map((c) => c.slice(2, 4).join('×'))).toEqual(['4×4', '7×9', '23×23', '6×5', '8×10']);
    for (const [N, C, H, W, sz, stride, padding] of twoByTwo) {
      const shape = [N, C, H, W];
      const g = pool2dGeometry(shape, opt(sz, stride, padding));
      const yShape = [g.N, g.C, g.OH, g.OW];
      for (const x of [randomArray(size(shape)), tiedValues(size(shape))]) {
        const xg = tensor(x, shape, 'webgpu');
        const dyg = tensor(randomArray(size(yShape)), yShape, 'webgpu');
        const run = async (path: MaxPoolPath, maxPerDim: number) => {
          const [y, dx] = [empty(yShape, 'webgpu'), empty(shape, 'webgpu')];
          maxPool2dGpu(g, xg, y, maxPerDim, path);
          maxPool2dBackwardGpu(g, xg, dyg, dx, maxPerDim, path);
          return { y: Array.from(await y.read()), dx: Array.from(await dx.read()) };
        };
        const general = await run('tiles', 65535);
        for (const maxPerDim of [65535, 1]) expect(await run('2x2', maxPerDim), `[${shape}], ${maxPerDim === 1 ? '2-D grid' : '1-D grid'}`).toEqual(general);
      }
    }
  });

  it('each geometry takes its kernels; a path that does not fit is refused', () => {
    const path = (shape: number[], sz: number, stride: number, padding: 'valid' | 'same') => maxPoolPath(pool2dGeometry(shape, opt(sz, stride, padding)));
    expect([path([1, 1, 46, 46], 2, 2, 'valid'), path([1, 1, 11, 11], 2, 2, 'same'), path([1, 1, 9, 9], 3, 3, 'valid'), path([1, 1, 9, 9], 3, 2, 'valid')]).toEqual(['2x2', 'tiles', 'tiles', 'per-input']);
    const g = pool2dGeometry([1, 1, 9, 9], opt(3, 2, 'valid'));
    const t = tensor(randomArray(81), [1, 1, 9, 9], 'cpu');
    expect(() => maxPool2dGpu(g, t, t, 65535, '2x2')).toThrow(/^maxpool2d: the '2x2' kernels do not fit 3×3 windows at stride 2 \(padding 0, 0\)$/);
    expect(() => maxPool2dBackwardGpu(g, t, t, t, 65535, 'tiles')).toThrow(/^maxpool2d: the 'tiles' kernels do not fit 3×3 windows at stride 2/);
  });

  it.skipIf(!gpu)('launches past one grid row (2-D grid)', async () => {
    const shape = [2, 3, 9, 10];
    const o = opt(3, 2, 'same');
    const g = pool2dGeometry(shape, o);
    const x = randomArray(size(shape));
    const dy = randomArray(g.N * g.C * g.OH * g.OW);
    const yShape = [g.N, g.C, g.OH, g.OW];
    const xg = tensor(x, shape, 'webgpu');
    const y = empty(yShape, 'webgpu');
    maxPool2dGpu(g, xg, y, 1); // 1 workgroup per row: forces gid.y > 0
    expectClose(await y.read(), await maxPool2d(tensor(x, shape, 'cpu'), o).read(), 0, 'maxpool forward, 2-D grid');
    const dx = empty(shape, 'webgpu');
    maxPool2dBackwardGpu(g, xg, tensor(dy, yShape, 'webgpu'), dx, 1);
    const want = await maxPool2dBackward(tensor(x, shape, 'cpu'), tensor(dy, yShape, 'cpu'), o).read();
    expectClose(await dx.read(), want, GPU_TOLERANCE, 'maxpool backward, 2-D grid');
  });
});

describe('maxpool2d: bad input', () => {
  const x = () => tensor(randomArray(2 * 3 * 4 * 4), [2, 3, 4, 4], 'cpu');

  it('rejects shapes and options that do not fit, in one line each', () => {
    expect(() => maxPool2d(tensor(randomArray(12), [3, 4], 'cpu'))).toThrow(/^maxPool2d: x has shape \[3,4\], wanted rank 4 \[N,C,H,W\] with positive sizes$/);
    expect(() => maxPool2d(x(), { size: 5 })).toThrow(/^maxPool2d: a 5×5 window does not fit the 4×4 input of x \[2,3,4,4\] with padding 'valid'$/);
    expect(() => maxPool2d(x(), { size: 0 })).toThrow(/^maxPool2d: size must be a positive integer, got 0$/);
    expect(() => maxPool2d(x(), { stride: 1.5 })).toThrow(/^maxPool2d: stride must be a positive integer, got 1.5$/);
    expect(() => maxPool2d(x(), { padding: 'full' as 'same' })).toThrow(/^maxPool2d: padding must be 'valid' or 'same', got 'full'$/);
    expect(() => maxPool2dBackward(x(), tensor(randomArray(12), [2, 3, 2, 1], 'cpu'))).toThrow(
      /^maxPool2dBackward: dy has shape \[2,3,2,1\], wanted \[2,3,2,2\] like the forward output$/,
    );
  });

  it('rejects disposed tensors, in one line each', () => {
    const t = x();
    t.dispose();
    expect(() => maxPool2d(t)).toThrow(/^maxPool2d: x \[2,3,4,4\] was disposed$/);
    const dy = tensor(randomArray(24), [2, 3, 2, 2], 'cpu');
    dy.dispose();
    expect(() => maxPool2dBackward(x(), dy)).toThrow(/^maxPool2dBackward: dy \[2,3,2,2\] was disposed$/);
  });

  it.skipIf(!gpu)('rejects tensors on different backends', () => {
    const dy = tensor(randomArray(24), [2, 3, 2, 2], 'webgpu');
    expect(() => maxPool2dBackward(x(), dy)).toThrow(/^maxPool2dBackward: dy is on webgpu but x is on cpu$/);
  });
});
