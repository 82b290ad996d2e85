import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dGeometry, type Padding } from '../../src/ops/conv2d.ts';
import { gemmKernel, gemmLabel, REGISTER_SCALAR_TILES, REGISTER_TALL_TILES, REGISTER_TILES, setGemmTiles, SHARED_TILES, type GemmTiles } from '../../src/ops/gemm.ts';
import { matmul, matmulPath } from '../../src/ops/matmul.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray } from '../support/random.ts';

// The register kernels of the GEMM core against the CPU twin: the 4×4 and 8×2 scalar blocks
// (shaders/gemm.wgsl) and the vec4 core (shaders/gemm_vec4.wgsl). Tolerance: as every
// GPU-vs-CPU GEMM test (compare.ts): float32 sums in a different order.

async function withTiles<T>(tiles: GemmTiles, fn: () => Promise<T>): Promise<T> {
  setGemmTiles(tiles);
  try {
    return await fn();
  } finally {
    setGemmTiles(null);
  }
}

// [M, N, K, transA, transB]. The vec4 core runs where A is not transposed and K % 4 = 0, with B
// stored K×N (N % 4 = 0) or N×K (any N): M not a multiple of 4 (clamped rows), M = 1 (a batch
// of one), N = 7 and 130 with B transposed (clamped columns), K = 4 (one step), one shape past a
// workgroup's block in both directions. The rest take the scalar block: A transposed, odd K.
const CASES: [number, number, number, boolean, boolean][] = [
  [1, 4, 4, false, false],
  [5, 8, 12, false, false],
  [37, 36, 52, false, false],
  [70, 68, 128, false, false],
  [1, 7, 1600, false, true],
  [3, 5, 8, false, true],
  [33, 130, 20, false, true],
  [64, 64, 64, false, true],
  [17, 9, 5, true, false],
  [65, 3, 13, false, true],
  [9, 70, 33, true, true],
];

function vec4Expected(N: number, K: number, transA: boolean, transB: boolean): boolean {
  return !transA && K % 4 === 0 && (transB || N % 4 === 0);
}

describe('matmul on the register kernels: WebGPU against the CPU reference', () => {
  for (const tiles of [REGISTER_TILES, REGISTER_SCALAR_TILES, REGISTER_TALL_TILES]) {
    for (const [M, N, K, transA, transB] of CASES) {
      const vec4 = tiles.vec4 === true && vec4Expected(N, K, transA, transB);
      const label = gemmLabel(tiles, vec4);
      it.skipIf(!gpu)(`${label} M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, () =>
        withTiles(tiles, async () => {
          expect(matmulPath(gpu!, M, N, K, { transA, transB })).toBe(label);
          const a = randomArray(M * K);
          const b = randomArray(K * N);
          const bias = randomArray(N);
          const aShape = transA ? [K, M] : [M, K];
          const bShape = transB ? [N, K] : [K, N];
          const run = (be: 'cpu' | 'webgpu') =>
            matmul(tensor(a, aShape, be), tensor(b, bShape, be), { transA, transB, bias: tensor(bias, [N], be) }).read();
          const want = await run('cpu');
          expectClose(await run('webgpu'), want, GPU_TOLERANCE, label);
        }),
      );
    }
  }
});

// [N, C, H, W, K, R, stride, padding]: batch 1, odd sizes, K not a multiple of 8 (clamped rows
// of the 8×2 block) and an odd number of output pixels (clamped columns).
const CONV: [number, number, number, number, number, number, number, Padding][] = [
  [1, 3, 7, 5, 5, 3, 1, 'same'],
  [2, 4, 9, 8, 11, 3, 2, 'valid'],
  [1, 9, 6, 7, 17, 3, 1, 'same'],
];

describe('conv2d on the 8×2 register kernel: WebGPU against the CPU reference', () => {
  for (const [N, C, H, W, K, R, stride, padding] of CONV) {
    it.skipIf(!gpu)(`x[${N},${C},${H},${W}] w[${K},${C},${R},${R}] stride ${stride} ${padding}: all three passes`, () =>
      withTiles(REGISTER_TALL_TILES, async () => {
        const opts = { stride, padding };
        const xShape = [N, C, H, W];
        const wShape = [K, C, R, R];
        const g = conv2dGeometry(xShape, wShape, opts);
        const yShape = [N, K, g.OH, g.OW];
        const [x, w, b, dy] = [randomArray(N * C * H * W), randomArray(K * C * R * R), randomArray(K), randomArray(N * K * g.OH * g.OW)];
        const on = (be: 'cpu' | 'webgpu') => ({ x: tensor(x, xShape, be), w: tensor(w, wShape, be), b: tensor(b, [K], be), dy: tensor(dy, yShape, be) });
        const [c, d] = [on('cpu'), on('webgpu')];
        expectClose(await conv2d(d.x, d.w, d.b, opts).read(), await conv2d(c.x, c.w, c.b, opts).read(), GPU_TOLERANCE, 'forward');
        expectClose(await conv2dBackwardInput(d.dy, d.w, xShape, opts).read(), await conv2dBackwardInput(c.dy, c.w, xShape, opts).read(), GPU_TOLERANCE, 'backward input');
        expectClose(await conv2dBackwardFilter(d.x, d.dy, wShape, opts).read(), await conv2dBackwardFilter(c.x, c.dy, wShape, opts).read(), GPU_TOLERANCE, 'backward filter');
      }),
    );
  }
});

describe('choosing the kernel', () => {
  it.skipIf(!gpu)('matmulPath takes vec4 only where the operands allow it', () =>
    withTiles(REGISTER_TILES, async () => {
      expect(matmulPath(gpu!, 8, 8, 8, {})).toBe('registers+vec4');
      expect(matmulPath(gpu!, 8, 8, 8, { transA: true })).toBe('registers 4×4');
      expect(matmulPath(gpu!, 8, 8, 6, { transB: true })).toBe('registers 4×4');
      expect(matmulPath(gpu!, 8, 6, 8, {})).toBe('registers 4×4');
      expect(matmulPath(gpu!, 8, 6, 8, { transB: true })).toBe('registers+vec4');
      setGemmTiles(SHARED_TILES);
      expect(matmulPath(gpu!, 8, 8, 8, {})).toBe('shared');
    }),
  );

  it('gemmKernel picks the entry point and refuses shapes no kernel computes', () => {
    const op = 'fn gemmDims() -> vec3u { return vec3u(1u); }';
    expect(gemmKernel('t', op, REGISTER_TILES, ['write']).entry).toBe('gemm_registers');
    expect(gemmKernel('t', op, REGISTER_TALL_TILES, ['write']).entry).toBe('gemm_registers_8x2');
    expect(gemmKernel('t', op, REGISTER_TILES, ['write'], {}, true).entry).toBe('gemm_vec4');
    expect(gemmKernel('t', op, SHARED_TILES, ['write']).entry).toBe('gemm_shared');
    expect(() => gemmKernel('t', op, { ...REGISTER_TILES, TM: 2 }, ['write'])).toThrow(/4×4 or 8×2 blocks, got TM=2 TN=4/);
    expect(() => gemmKernel('t', op, SHARED_TILES, ['write'], {}, true)).toThrow(/vec4 asked of tiles shared/);
  });
});
