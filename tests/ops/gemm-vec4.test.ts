import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { REGISTER_SCALAR_TILES, REGISTER_TILES, setGemmTiles, SHARED_TILES } from '../../src/ops/gemm.ts';
import { matmul, matmulPath } from '../../src/ops/matmul.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray } from '../support/random.ts';

// The register kernel's vec4 path (shaders/gemm_vec4.wgsl) against the CPU twin. It runs where
// A is not transposed and K % 4 = 0, with B either stored K×N (N % 4 = 0) or N×K (any N): the
// shapes below have M not a multiple of 4 (clamped rows), M = 1 (a batch of one), N = 7 and
// 130 with transposed B (clamped columns), K = 4 (one step) and one shape past a workgroup's
// 32×32 block in both directions. Tolerance: as every GPU-vs-CPU GEMM test (compare.ts).
const CASES: [number, number, number, boolean][] = [
  [1, 4, 4, false],
  [5, 8, 12, false],
  [37, 36, 52, false],
  [70, 68, 128, false],
  [1, 7, 1600, true],
  [3, 5, 8, true],
  [33, 130, 20, true],
  [64, 64, 64, true],
];

// The same shapes through the scalar register kernel, which conv2d always runs.
describe('matmul on the register kernels, vec4 and scalar: WebGPU against the CPU reference', () => {
  for (const [tiles, path] of [[REGISTER_TILES, 'registers+vec4'], [REGISTER_SCALAR_TILES, 'registers']] as const) {
    for (const [M, N, K, transB] of CASES) {
      it.skipIf(!gpu)(`${path} M=${M} N=${N} K=${K} transB=${transB}`, async () => {
        setGemmTiles(tiles);
        try {
          expect(matmulPath(gpu!, M, N, K, { transB })).toBe(path);
          const a = randomArray(M * K);
          const b = randomArray(K * N);
          const bias = randomArray(N);
          const bShape = transB ? [N, K] : [K, N];
          const run = (be: 'cpu' | 'webgpu') => matmul(tensor(a, [M, K], be), tensor(b, bShape, be), { transB, bias: tensor(bias, [N], be) }).read();
          const want = await run('cpu');
          expectClose(await run('webgpu'), want, GPU_TOLERANCE, path);
        } finally {
          setGemmTiles(null);
        }
      });
    }
  }
});

describe('matmulPath: which kernel a product runs', () => {
  it.skipIf(!gpu)('takes vec4 only where the operands allow it', () => {
    try {
      setGemmTiles(REGISTER_TILES);
      expect(matmulPath(gpu!, 8, 8, 8, {})).toBe('registers+vec4');
      expect(matmulPath(gpu!, 8, 8, 8, { transA: true })).toBe('registers');
      expect(matmulPath(gpu!, 8, 8, 6, { transB: true })).toBe('registers');
      expect(matmulPath(gpu!, 8, 6, 8, {})).toBe('registers');
      expect(matmulPath(gpu!, 8, 6, 8, { transB: true })).toBe('registers+vec4');
      setGemmTiles(REGISTER_SCALAR_TILES);
      expect(matmulPath(gpu!, 8, 8, 8, {})).toBe('registers');
      setGemmTiles(SHARED_TILES);
      expect(matmulPath(gpu!, 8, 8, 8, {})).toBe('shared');
    } finally {
      setGemmTiles(null);
    }
  });
});
