import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { gemmCpu, REGISTER_TILES, setGemmTiles, SHARED_TILES } from '../../src/ops/gemm.ts';
import { matmul, matmulRef } from '../../src/ops/matmul.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 13],
  [5, 3, 2],
  [37, 29, 53],
  [64, 64, 64],
  [70, 65, 129],
];

describe('matmul: WebGPU against the CPU reference', () => {
  for (const tiles of [REGISTER_TILES, SHARED_TILES]) {
    for (const [M, N, K] of SHAPES) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        it.skipIf(!gpu)(`${tiles.variant} M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, async () => {
          setGemmTiles(tiles);
          try {
            const a = randomArray(M * K);
            const b = randomArray(K * N);
            const bias = randomArray(N);
            const aShape = transA ? [K, M] : [M, K];
            const bShape = transB ? [N, K] : [K, N];
            const opts = (be: 'cpu' | 'webgpu') => ({ transA, transB, bias: tensor(bias, [N], be) });
            const want = await matmul(tensor(a, aShape, 'cpu'), tensor(b, bShape, 'cpu'), opts('cpu')).read();
            const got = await matmul(tensor(a, aShape, 'webgpu'), tensor(b, bShape, 'webgpu'), opts('webgpu')).read();
            expectClose(got, want, GPU_TOLERANCE, 'matmul');
          } finally {
            setGemmTiles(null);
          }
        });
      }
    }
  }
});

describe('matmul: CPU reference', () => {
  it('matches the definition on a hand-checked product', async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], 'cpu');
    const b = tensor([7, 8, 9, 10, 11, 12], [3, 2], 'cpu');
    expect(Array.from(await matmul(a, b, { bias: tensor([1, -1], [2], 'cpu') }).read())).toEqual([59, 63, 140, 153]);
  });

  it('gradients of L = Σ C·R: dA = R·Bᵀ and dB = Aᵀ·R, as the dense layer uses them', () => {
    const [M, N, K] = [4, 5, 6];
    const a = toF64(randomArray(M * K));
    const b = toF64(randomArray(K * N));
    const r = toF64(randomArray(M * N));
    const loss = (aa: Float64Array, bb: Float64Array) => {
      const c = new Float64Array(M * N);
      matmulRef(aa, bb, null, c, M, N, K);
      return dot(c, r);
    };
    const dA = new Float64Array(M * K);
    matmulRef(r, b, null, dA, M, K, N, false, true);
    const dB = new Float64Array(K * N);
    matmulRef(a, r, null, dB, K, N, M, true, false);
    expectGradient('dA', a, (x) => loss(x, b), dA);
    expectGradient('dB', b, (x) => loss(a, x), dB);
  });
});

describe('matmul: bad input', () => {
  it('says which sizes disagree', () => {
    const a = tensor(randomArray(6), [2, 3], 'cpu');
    const b = tensor(randomArray(8), [4, 2], 'cpu');
    expect(() => matmul(a, b)).toThrow(/matmul: A is 2×3 but B is 4×2/);
    expect(() => matmul(a, tensor(randomArray(6), [3, 2], 'cpu'), { bias: tensor([1], [1], 'cpu') })).toThrow(/bias has shape \[1\], wanted \[2\]/);
    expect(() => matmul(tensor(randomArray(6), [6], 'cpu'), b)).toThrow(/wanted rank 2/);
  });

  it.skipIf(!gpu)('refuses operands on different backends', () => {
    const a = tensor(randomArray(6), [2, 3], 'cpu');
    const b = tensor(randomArray(6), [3, 2], 'webgpu');
    expect(() => matmul(a, b)).toThrow(/b is on webgpu but a is on cpu/);
  });
});

describe('gemmCpu: the blocked CPU product against the plain reference', () => {
  for (const [M, N, K] of SHAPES) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}, with offsets and accumulation`, () => {
        const a = randomArray(M * K + 3);
        const b = randomArray(K * N + 5);
        const want = new Float64Array(M * N);
        matmulRef(toF64(a.subarray(3)), toF64(b.subarray(5)), null, want, M, N, K, transA, transB);
        const c = new Float32Array(M * N + 2).fill(0.5);
        gemmCpu(M, N, K, { data: a, offset: 3, trans: transA }, { data: b, offset: 5, trans: transB }, c, 2, true);
        expectClose(c.subarray(2), want.map((v) => v + 0.5), 1e-5, 'gemmCpu');
        expect(c[0]).toBe(0.5);
      });
    }
  }
});
