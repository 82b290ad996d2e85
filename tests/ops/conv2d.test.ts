import { describe, expect, it } from 'vitest';
import type { Floats } from '../../src/backend/cpu.ts';
import { debug } from '../../src/backend/backends.ts';
import { tensor } from '../../src/backend/create.ts';
import type { Tensor } from '../../src/backend/tensor.ts';
import {
  conv2d,
  conv2dBackwardFilter,
  conv2dBackwardFilterRef,
  conv2dBackwardInput,
  conv2dBackwardInputRef,
  conv2dFlops,
  conv2dGeometry,
  conv2dRef,
  type Conv2dGeometry,
  type Conv2dOptions,
} from '../../src/ops/conv2d.ts';
import { REGISTER_TALL_TILES, REGISTER_TILES, setGemmTiles, SHARED_TILES } from '../../src/ops/gemm.ts';
import { ALL_DIRECT_BLOCKS, choiceLabel, convKernel, setConvKernel } from '../../src/ops/conv2d-webgpu.ts';
import { relu } from '../../src/ops/relu.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

/**
 * The definition, as seven nested loops: every output is bias plus the filter times the input
 * window under it, with pixels outside the image read as 0. The im2col path is checked against it.
 */
function conv2dDirect(g: Conv2dGeometry, x: Floats, w: Floats, bias: Floats | null, y: Floats): void {
  const { N, C, H, W, K, R, S, stride, OH, OW, padTop, padLeft } = g;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let sum = bias ? bias[k] : 0;
          for (let c = 0; c < C; c++) {
            for (let r = 0; r < R; r++) {
              for (let s = 0; s < S; s++) {
                const ih = oh * stride + r - padTop;
                const iw = ow * stride + s - padLeft;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                sum += w[((k * C + c) * R + r) * S + s] * x[((n * C + c) * H + ih) * W + iw];
              }
            }
          }
          y[((n * K + k) * OH + oh) * OW + ow] = sum;
        }
      }
    }
  }
}

// [N, C, H, W, K, R, S, stride, padding]: batch 1, odd and non-square images, kernels 1×1 to 5×5
// (and R ≠ S), strides 1 to 3, a kernel as big as the image, and sizes past one GEMM tile.
type Case = [number, number, number, number, number, number, number, number, 'same' | 'valid'];
const CASES: Case[] = [
  [1, 3, 7, 5, 5, 3, 3, 1, 'same'],
  [2, 3, 7, 5, 5, 3, 3, 2, 'valid'],
  [2, 3, 7, 5, 5, 3, 3, 2, 'same'],
  [1, 2, 6, 6, 4, 1, 1, 1, 'valid'],
  [2, 3, 5, 5, 4, 1, 1, 2, 'same'],
  [2, 1, 9, 8, 3, 5, 5, 2, 'same'],
  [1, 4, 5, 7, 6, 5, 5, 1, 'same'],
  [1, 2, 5, 5, 3, 5, 5, 1, 'valid'],
  [3, 2, 8, 7, 7, 3, 3, 2, 'same'],
  [1, 3, 7, 5, 5, 3, 2, 1, 'valid'],
  [2, 2, 10, 9, 3, 4, 2, 3, 'same'],
  [2, 8, 12, 12, 17, 3, 3, 1, 'same'],
  [1, 3, 6, 14, 9, 3, 3, 1, 'same'],
  [1, 2, 4, 30, 3, 3, 3, 1, 'same'],
  [1, 18, 6, 9, 5, 3, 3, 1, 'same'], // 18 input channels: the input gradient's 16-channel blocks end part-full
];

function describeCase([N, C, H, W, K, R, S, stride, padding]: Case): string {
  return `x[${N},${C},${H},${W}] w[${K},${C},${R},${S}] stride ${stride} ${padding}`;
}

function setup([N, C, H, W, K, R, S, stride, padding]: Case) {
  const opts: Conv2dOptions = { stride, padding };
  const xShape = [N, C, H, W];
  const wShape = [K, C, R, S];
  const g = conv2dGeometry(xShape, wShape, opts);
  return { g, opts, xShape, wShape, yShape: [N, K, g.OH, g.OW] };
}

describe('conv2dGeometry', () => {
  it("follows TensorFlow's 'same' rule: OH = ceil(H/stride), the odd pixel of padding at the bottom/right", () => {
    const same = (H: number, R: number, stride: number) => {
      const g = conv2dGeometry([1, 1, H, H + 1], [1, 1, R, R], { stride, padding: 'same' });
      return [g.OH, g.padTop, g.OW, g.padLeft];
    };
    // H=7 R=3 s=2: OH 4, total (4-1)·2+3-7 = 2 → top 1. W=8: OW 4, total 1 → left 0.
    expect(same(7, 3, 2)).toEqual([4, 1, 4, 0]);
    // H=4 R=5 s=1: total 4 → top 2. W=5: total 4 → left 2.
    expect(same(4, 5, 1)).toEqual([4, 2, 5, 2]);
    // H=5 R=1 s=2: (3-1)·2+1-5 = 0: no padding. W=6: OW 3, total max(-1, 0) = 0.
    expect(same(5, 1, 2)).toEqual([3, 0, 3, 0]);
  });

  it("'valid' has no padding and OH = floor((H-R)/stride)+1; stride and padding default to 1 and 'valid'", () => {
    expect(conv2dGeometry([2, 3, 7, 8], [5, 3, 3, 2], { stride: 2 })).toEqual({
      N: 2, C: 3, H: 7, W: 8, K: 5, R: 3, S: 2, stride: 2, OH: 3, OW: 4, padTop: 0, padLeft: 0,
    });
    const g = conv2dGeometry([1, 1, 6, 6], [1, 1, 3, 3]);
    expect([g.stride, g.OH, g.OW, g.padTop]).toEqual([1, 4, 4, 0]);
  });

  it('counts 2·N·K·OH·OW·C·R·S FLOPs', () => {
    expect(conv2dFlops(conv2dGeometry([8, 256, 46, 46], [256, 256, 3, 3], { padding: 'same' }))).toBe(2 * 8 * 256 * 46 * 46 * 256 * 9);
  });
});

describe('conv2d: CPU im2col path against the direct definition', () => {
  it('a hand-checked 1×1×3×3 image with a 2×2 kernel, stride 1, valid', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], 'cpu');
    const w = tensor([1, 0, 0, -1], [1, 1, 2, 2], 'cpu');
    expect(Array.from(await conv2d(x, w, tensor([10], [1], 'cpu')).read())).toEqual([6, 6, 6, 6]);
  });

  for (const c of CASES) {
    it(describeCase(c), async () => {
      const { g, opts, xShape, wShape, yShape } = setup(c);
      const x = randomArray(xShape.reduce((a, b) => a * b));
      const w = randomArray(wShape.reduce((a, b) => a * b));
      const bias = randomArray(g.K);
      const want = new Float64Array(yShape.reduce((a, b) => a * b));
      conv2dDirect(g, toF64(x), toF64(w), toF64(bias), want);
      // Float64 through im2col and gemmCpu: only the summation order differs from the loops (1e-16 each).
      const got64 = new Float64Array(want.length);
      conv2dRef(g, toF64(x), toF64(w), toF64(bias), got64);
      expectClose(got64, want, 1e-12, 'conv2dRef in float64');
      // The float32 op: sums of at most a few hundred terms, each rounding at 6e-8 relative.
      const got = await conv2d(tensor(x, xShape, 'cpu'), tensor(w, wShape, 'cpu'), tensor(bias, [g.K], 'cpu'), opts).read();
      expectClose(got, want, 1e-5, 'conv2d on the CPU backend');
      const noBias = await conv2d(tensor(x, xShape, 'cpu'), tensor(w, wShape, 'cpu'), null, opts).read();
      conv2dDirect(g, toF64(x), toF64(w), null, want);
      expectClose(noBias, want, 1e-5, 'conv2d without bias');
    });
  }
});

describe('conv2d: backward passes against float64 finite differences of the definition', () => {
  // L = Σ y·r, so dL/dy = r; the analytic gradients come from the CPU reference (im2col path).
  for (const c of CASES.slice(0, 11)) {
    it(describeCase(c), () => {
      const { g, xShape, wShape, yShape } = setup(c);
      const size = (s: number[]) => s.reduce((a, b) => a * b);
      const x = toF64(randomArray(size(xShape)));
      const w = toF64(randomArray(size(wShape)));
      const r = toF64(randomArray(size(yShape)));
      const y = new Float64Array(r.length);
      const loss = (xx: Float64Array, ww: Float64Array) => {
        conv2dDirect(g, xx, ww, null, y);
        return dot(y, r);
      };
      const dx = new Float64Array(x.length).fill(NaN);
      conv2dBackwardInputRef(g, r, w, dx);
      expectGradient('dx', x, (v) => loss(v, w), dx);
      const dw = new Float64Array(w.length).fill(NaN);
      conv2dBackwardFilterRef(g, x, r, dw);
      expectGradient('dw', w, (v) => loss(x, v), dw);
    });
  }
});

describe('conv2d: WebGPU against the CPU reference', () => {
  for (const tiles of [REGISTER_TILES, SHARED_TILES]) {
    CASES.forEach((c, i) => {
      it.skipIf(!gpu)(`${tiles.variant} ${describeCase(c)}: forward, backward input, backward filter`, async () => {
        setGemmTiles(tiles);
        try {
          const { g, opts, xShape, wShape, yShape } = setup(c);
          const size = (s: number[]) => s.reduce((a, b) => a * b);
          const x = randomArray(size(xShape));
          const w = randomArray(size(wShape));
          const bias = i % 2 === 0 ? randomArray(g.K) : null;
          const dy = randomArray(size(yShape));
          const on = (be: 'cpu' | 'webgpu') => ({
            x: tensor(x, xShape, be),
            w: tensor(w, wShape, be),
            bias: bias ? tensor(bias, [g.K], be) : null,
            dy: tensor(dy, yShape, be),
          });
          const cpu = on('cpu');
          const dev = on('webgpu');
          const y = await conv2d(dev.x, dev.w, dev.bias, opts).read();
          expectClose(y, await conv2d(cpu.x, cpu.w, cpu.bias, opts).read(), GPU_TOLERANCE, 'forward');
          const dx = await conv2dBackwardInput(dev.dy, dev.w, xShape, opts).read();
          expectClose(dx, await conv2dBackwardInput(cpu.dy, cpu.w, xShape, opts).read(), GPU_TOLERANCE, 'backward input');
          const dw = await conv2dBackwardFilter(dev.x, dev.dy, wShape, opts).read();
          expectClose(dw, await conv2dBackwardFilter(cpu.x, cpu.dy, wShape, opts).read(), GPU_TOLERANCE, 'backward filter');
        } finally {
          setGemmTiles(null);
        }
      });
    });
  }
});

describe('conv2d: the direct kernels (conv2d_direct.wgsl, conv2d_filter_direct.wgsl) against the CPU reference', () => {
  // Every case: channels past a block of 8 (K = 17) and fewer than 4 (clamped rows), widths not
  // a multiple of the run (clamped pixels; 14 = a group of 8 and one of 6, 30 = 24 and 6, whose
  // quads are partly stored or not at all), filters of C·R·S = 27 and 50 weights (a last group
  // of 3 and of 2), R ≠ S, strides 2 and 3 (the input gradient then takes the GEMM core), 3-wide
  // rows at stride 1 (the unrolled row) and not.
  for (const block of ALL_DIRECT_BLOCKS) {
    const label = choiceLabel(block);
    CASES.forEach((c, i) => {
      it.skipIf(!gpu)(`${label} ${describeCase(c)}: forward (with epilogue), backward input, backward filter`, async () => {
        setConvKernel(block);
        try {
          const { g, opts, xShape, wShape, yShape } = setup(c);
          const size = (s: number[]) => s.reduce((a, b) => a * b);
          const x = randomArray(size(xShape));
          const w = randomArray(size(wShape));
          const bias = i % 2 === 0 ? randomArray(g.K) : null;
          const scale = i % 3 === 0 ? randomArray(g.K, -2, 2) : null;
          const shift = scale ? randomArray(g.K) : null;
          const dy = randomArray(size(yShape));
          const on = (be: 'cpu' | 'webgpu') => ({
            x: tensor(x, xShape, be),
            w: tensor(w, wShape, be),
            bias: bias ? tensor(bias, [g.K], be) : null,
            scale: scale ? tensor(scale, [g.K], be) : null,
            shift: shift ? tensor(shift, [g.K], be) : null,
            dy: tensor(dy, yShape, be),
          });
          const cpu = on('cpu');
          const dev = on('webgpu');
          const fwd = (t: typeof cpu) => conv2d(t.x, t.w, t.bias, { ...opts, relu: i % 2 === 1, scale: t.scale, shift: t.shift }).read();
          expectClose(await fwd(dev), await fwd(cpu), GPU_TOLERANCE, 'forward');
          const dx = await conv2dBackwardInput(dev.dy, dev.w, xShape, opts).read();
          expectClose(dx, await conv2dBackwardInput(cpu.dy, cpu.w, xShape, opts).read(), GPU_TOLERANCE, 'backward input');
          const dw = await conv2dBackwardFilter(dev.x, dev.dy, wShape, opts).read();
          expectClose(dw, await conv2dBackwardFilter(cpu.x, cpu.dy, wShape, opts).read(), GPU_TOLERANCE, 'backward filter');
          expect(choiceLabel(convKernel(gpu!, 'forward', setup(c).g))).toBe(label);
        } finally {
          setConvKernel(null);
        }
      });
    });
  }

  it.skipIf(!gpu)('a software adapter runs the direct kernels by default: the longest even split of the run into quads (at most 24 by 16 channels; for the filter gradient 12 by 8 filters); pinned GEMM tiles run the GEMM core', () => {
    const { g } = setup(CASES[0]);
    const strided = setup(CASES[1]).g;
    const at = (x: number[], w: number[]) => conv2dGeometry(x, w, { padding: 'same' });
    if (gpu!.info.software && !process.env.FER_CONV) {
      expect(choiceLabel(convKernel(gpu!, 'forward', g))).toBe('direct 8×8'); // 5 pixels a row, 5 filters
      expect(choiceLabel(convKernel(gpu!, 'backward-input', g))).toBe('direct 4×8'); // 3 channels
      expect(choiceLabel(convKernel(gpu!, 'backward-filter', strided))).toBe('direct 8×12'); // 27 weights: 3 × 12
      // The seed model's rows: 46 pixels (2 × 24), 23 (24), 11 (12); its filters: 2304 weights (192 × 12).
      expect(choiceLabel(convKernel(gpu!, 'forward', at([1, 4, 46, 46], [64, 4, 3, 3])))).toBe('direct 16×24');
      expect(choiceLabel(convKernel(gpu!, 'backward-input', at([1, 32, 23, 23], [4, 32, 3, 3])))).toBe('direct 16×24');
      expect(choiceLabel(convKernel(gpu!, 'forward', at([1, 4, 11, 11], [9, 4, 3, 3])))).toBe('direct 16×12');
      expect(choiceLabel(convKernel(gpu!, 'backward-filter', at([1, 256, 23, 23], [128, 256, 3, 3])))).toBe('direct 8×12');
      expect(choiceLabel(convKernel(gpu!, 'backward-filter', at([1, 1, 48, 48], [256, 1, 3, 3])))).toBe('direct 8×12'); // 9 weights: 1 × 12
      expect(choiceLabel(convKernel(gpu!, 'backward-input', at([1, 1, 48, 48], [256, 1, 3, 3])))).toBe('direct 4×24'); // 1 channel
      // The input gradient of a strided convolution is not a forward convolution: the GEMM core.
      expect(convKernel(gpu!, 'backward-input', strided).family).toBe('gemm');
    }
    setGemmTiles(SHARED_TILES);
    try {
      expect(choiceLabel(convKernel(gpu!, 'forward', g))).toBe('gemm shared');
    } finally {
      setGemmTiles(null);
    }
  });
});

// ---- the fused epilogue: y = relu(conv + bias)·scale[k] + shift[k] in the forward's store step ----

/** The epilogue's definition in float64, applied to the direct convolution's output. */
function epilogueDirect(g: Conv2dGeometry, y: Float64Array, relu: boolean, scale: Floats | null, shift: Floats | null): void {
  const P = g.OH * g.OW;
  for (let i = 0; i < y.length; i++) {
    const k = Math.floor(i / P) % g.K;
    let v = y[i];
    if (relu) v = Math.max(v, 0);
    if (scale && shift) v = v * scale[k] + shift[k];
    y[i] = v;
  }
}

// [relu, affine, bias]: each step alone and all together.
const EPILOGUES: [boolean, boolean, boolean][] = [
  [true, false, true],
  [false, true, true],
  [true, true, true],
  [true, true, false],
];
const describeEpilogue = ([r, a, b]: [boolean, boolean, boolean]) => `${b ? 'bias' : 'no bias'}${r ? ' + relu' : ''}${a ? ' + scale/shift' : ''}`;

function epilogueInputs(c: Case, [, affine, withBias]: [boolean, boolean, boolean]) {
  const { g, xShape, wShape } = setup(c);
  const size = (s: number[]) => s.reduce((a, b) => a * b);
  return {
    x: randomArray(size(xShape)),
    w: randomArray(size(wShape)),
    bias: withBias ? randomArray(g.K) : null,
    // Negative scales too: a batch norm's gamma may be negative, which is why relu comes first.
    scale: affine ? randomArray(g.K, -2, 2) : null,
    shift: affine ? randomArray(g.K) : null,
  };
}

describe('conv2d: fused relu and scale/shift epilogue', () => {
  const cases = [CASES[0], CASES[2], CASES[5], CASES[9], CASES[11]];
  for (const c of cases) {
    for (const ep of EPILOGUES) {
      it(`CPU ${describeCase(c)} ${describeEpilogue(ep)}: against the float64 definition`, async () => {
        const { g, opts, xShape, wShape, yShape } = setup(c);
        const v = epilogueInputs(c, ep);
        const want = new Float64Array(yShape.reduce((a, b) => a * b));
        conv2dDirect(g, toF64(v.x), toF64(v.w), v.bias ? toF64(v.bias) : null, want);
        epilogueDirect(g, want, ep[0], v.scale, v.shift);
        const t = (a: Float32Array | null, shape: number[]) => (a ? tensor(a, shape, 'cpu') : null);
        const got = await conv2d(tensor(v.x, xShape, 'cpu'), tensor(v.w, wShape, 'cpu'), t(v.bias, [g.K]), {
          ...opts, relu: ep[0], scale: t(v.scale, [g.K]), shift: t(v.shift, [g.K]),
        }).read();
        // As the plain op above: float32 sums of at most a few hundred terms; the epilogue adds one
        // rounding of a product and a sum (6e-8 each, times |scale| ≤ 2).
        expectClose(got, want, 1e-5, 'fused conv2d on the CPU backend');
      });
    }
  }

  it('CPU: conv2d(…, {relu: true}) is relu(conv2d(…)) bit for bit (same products, same rounding)', async () => {
    for (const c of cases) {
      const { g, opts, xShape, wShape } = setup(c);
      const v = epilogueInputs(c, [true, false, true]);
      const x = tensor(v.x, xShape, 'cpu');
      const w = tensor(v.w, wShape, 'cpu');
      const b = tensor(v.bias!, [g.K], 'cpu');
      const fused = await conv2d(x, w, b, { ...opts, relu: true }).read();
      const apart = await relu(conv2d(x, w, b, opts)).read();
      expect(fused.some((y) => y === 0) && fused.some((y) => y > 0), 'relu cut some outputs and kept others').toBe(true);
      expect(Array.from(fused)).toEqual(Array.from(apart));
    }
  });

  for (const tiles of [REGISTER_TALL_TILES, REGISTER_TILES, SHARED_TILES]) {
    const label = `${tiles.variant} ${tiles.TM}×${tiles.TN}`;
    cases.forEach((c, i) => {
      const ep = EPILOGUES[i % EPILOGUES.length];
      it.skipIf(!gpu)(`WebGPU ${label} ${describeCase(c)} ${describeEpilogue(ep)}: against the CPU twin`, async () => {
        setGemmTiles(tiles);
        try {
          const { g, opts, xShape, wShape } = setup(c);
          const v = epilogueInputs(c, ep);
          const run = (be: 'cpu' | 'webgpu') => {
            const t = (a: Float32Array | null, shape: number[]) => (a ? tensor(a, shape, be) : null);
            const o = { ...opts, relu: ep[0], scale: t(v.scale, [g.K]), shift: t(v.shift, [g.K]) };
            return conv2d(tensor(v.x, xShape, be), tensor(v.w, wShape, be), t(v.bias, [g.K]), o).read();
          };
          expectClose(await run('webgpu'), await run('cpu'), GPU_TOLERANCE, 'fused forward');
        } finally {
          setGemmTiles(null);
        }
      });
    });
  }

  it.skipIf(!gpu)('WebGPU: the fused relu adds no dispatch and matches conv2d then relu', async () => {
    const c = CASES[2];
    const { g, opts, xShape, wShape } = setup(c);
    const v = epilogueInputs(c, [true, false, true]);
    const x = tensor(v.x, xShape, 'webgpu');
    const w = tensor(v.w, wShape, 'webgpu');
    const b = tensor(v.bias!, [g.K], 'webgpu');
    // Poisoning fills every new output with a kernel of its own: off while counting.
    debug.poison = false;
    const count = (f: () => Tensor): number => {
      const before = gpu!.dispatches;
      f().dispose();
      return gpu!.dispatches - before;
    };
    const plain = count(() => conv2d(x, w, b, opts));
    const fusedCount = count(() => conv2d(x, w, b, { ...opts, relu: true }));
    const fused = conv2d(x, w, b, { ...opts, relu: true });
    debug.poison = true;
    // The convolution itself (and, for the direct kernels, the padded copy of x): nothing for the relu.
    expect(fusedCount).toBe(plain);
    expect(plain).toBeLessThanOrEqual(2);
    expectClose(await fused.read(), await relu(conv2d(x, w, b, opts)).read(), GPU_TOLERANCE, 'fused against conv2d then relu');
  });
});

describe('conv2d: bad input', () => {
  const x = () => tensor(randomArray(2 * 3 * 7 * 5), [2, 3, 7, 5], 'cpu');
  const w = () => tensor(randomArray(5 * 3 * 3 * 3), [5, 3, 3, 3], 'cpu');

  it('names the shapes that disagree', () => {
    expect(() => conv2d(x(), tensor(randomArray(5 * 4 * 9), [5, 4, 3, 3], 'cpu'), null)).toThrow(
      /^conv2d: w \[5,4,3,3\] has 4 input channels but x \[2,3,7,5\] has 3$/,
    );
    expect(() => conv2d(x(), w(), tensor(randomArray(4), [4], 'cpu'))).toThrow(/^conv2d: bias has shape \[4\], wanted \[5\] one per filter$/);
    expect(() => conv2d(tensor(randomArray(105), [3, 7, 5], 'cpu'), w(), null)).toThrow(/^conv2d: x has shape \[3,7,5\], wanted rank 4 \[N,C,H,W\]$/);
    expect(() => conv2d(x(), tensor(randomArray(45), [5, 3, 3], 'cpu'), null)).toThrow(/^conv2d: w has shape \[5,3,3\], wanted rank 4 \[K,C,R,S\]$/);
    expect(() => conv2d(x(), tensor(randomArray(5 * 3 * 36), [5, 3, 6, 6], 'cpu'), null)).toThrow(
      /^conv2d: a 6×6 kernel does not fit the 7×5 input of x \[2,3,7,5\] with padding 'valid'$/,
    );
  });

  it('rejects a bad stride or padding', () => {
    expect(() => conv2d(x(), w(), null, { stride: 0 })).toThrow(/^conv2d: stride must be a positive integer, got 0$/);
    expect(() => conv2d(x(), w(), null, { stride: 1.5 })).toThrow(/^conv2d: stride must be a positive integer, got 1.5$/);
    expect(() => conv2d(x(), w(), null, { padding: 'full' as 'same' })).toThrow(/^conv2d: padding must be 'same' or 'valid', got 'full'$/);
    expect(() => conv2dGeometry([2, 0, 7, 5], [5, 0, 3, 3])).toThrow(/^conv2d: x has shape \[2,0,7,5\], wanted positive sizes \[N,C,H,W\]$/);
  });

  it('backward passes check dy against the forward output and the shapes they are given', () => {
    const dy = tensor(randomArray(2 * 5 * 5 * 3), [2, 5, 5, 3], 'cpu');
    expect(() => conv2dBackwardInput(dy, w(), [2, 3, 7, 5], { padding: 'same' })).toThrow(
      /^conv2dBackwardInput: dy has shape \[2,5,5,3\], wanted \[2,5,7,5\] like the forward output$/,
    );
    expect(() => conv2dBackwardInput(dy, w(), [2, 4, 7, 5])).toThrow(/^conv2dBackwardInput: w \[5,3,3,3\] has 3 input channels but xShape \[2,4,7,5\] has 4$/);
    expect(() => conv2dBackwardFilter(x(), dy, [5, 3, 3, 3], { stride: 2 })).toThrow(
      /^conv2dBackwardFilter: dy has shape \[2,5,5,3\], wanted \[2,5,3,2\] like the forward output$/,
    );
    expect(() => conv2dBackwardFilter(x(), dy, [5, 3, 3])).toThrow(/^conv2dBackwardFilter: wShape has shape \[5,3,3\], wanted rank 4 \[K,C,R,S\]$/);
  });

  it('checks the epilogue: scale and shift together, one per filter, a boolean relu', () => {
    const k = (n: number) => tensor(randomArray(n), [n], 'cpu');
    expect(() => conv2d(x(), w(), null, { scale: k(5) })).toThrow(/^conv2d: got scale without shift, wanted both or neither$/);
    expect(() => conv2d(x(), w(), null, { shift: k(5) })).toThrow(/^conv2d: got shift without scale, wanted both or neither$/);
    expect(() => conv2d(x(), w(), null, { scale: k(5), shift: k(4) })).toThrow(/^conv2d: shift has shape \[4\], wanted \[5\] one per filter$/);
    expect(() => conv2d(x(), w(), null, { scale: k(3), shift: k(5) })).toThrow(/^conv2d: scale has shape \[3\], wanted \[5\] one per filter$/);
    expect(() => conv2d(x(), w(), null, { relu: 1 as unknown as boolean })).toThrow(/^conv2d: relu must be true or false, got 1$/);
    const gone = k(5);
    gone.dispose();
    expect(() => conv2d(x(), w(), null, { scale: gone, shift: k(5) })).toThrow(/^conv2d: scale \[5\] was disposed$/);
  });

  it('refuses a disposed tensor', () => {
    const xs = x();
    xs.dispose();
    expect(() => conv2d(xs, w(), null)).toThrow(/^conv2d: x \[2,3,7,5\] was disposed$/);
    const ws = w();
    ws.dispose();
    expect(() => conv2dBackwardInput(tensor(randomArray(2 * 5 * 15), [2, 5, 5, 3], 'cpu'), ws, [2, 3, 7, 5])).toThrow(
      /^conv2dBackwardInput: w \[5,3,3,3\] was disposed$/,
    );
    const dy = tensor(randomArray(2 * 5 * 15), [2, 5, 5, 3], 'cpu');
    dy.dispose();
    expect(() => conv2dBackwardFilter(x(), dy, [5, 3, 3, 3])).toThrow(/^conv2dBackwardFilter: dy \[2,5,5,3\] was disposed$/);
  });

  it.skipIf(!gpu)('refuses operands on different backends', () => {
    expect(() => conv2d(x(), tensor(randomArray(135), [5, 3, 3, 3], 'webgpu'), null)).toThrow(/^conv2d: w is on webgpu but x is on cpu$/);
    const s = tensor(randomArray(5), [5], 'webgpu');
    expect(() => conv2d(x(), w(), null, { scale: s, shift: s })).toThrow(/^conv2d: scale is on webgpu but x is on cpu$/);
  });
});
