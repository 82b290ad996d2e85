import { describe, expect, it } from 'vitest';
import { debug } from '../../src/backend/backends.ts';
import { tensor } from '../../src/backend/create.ts';
import type { BackendName } from '../../src/backend/tensor.ts';
import { REGISTER_SCALAR_TILES, REGISTER_TILES, setGemmTiles, SHARED_TILES } from '../../src/ops/gemm.ts';
import { matmul, matmulRef } from '../../src/ops/matmul.ts';
import { relu } from '../../src/ops/relu.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

// matmul's epilogue, C = relu(A·Bᵀ + bias)·scale[n] + shift[n]: the dense layer, its activation
// and a following inference batch norm in one pass. The dense layer's forward is transB.

// [M, N, K]: batch 1, odd sizes, K a multiple of 4 (the vec4 kernel) and not.
const SHAPES: [number, number, number][] = [
  [1, 7, 12],
  [3, 5, 9],
  [8, 13, 16],
  [5, 33, 7],
];

// [relu, affine, bias]
const EPILOGUES: [boolean, boolean, boolean][] = [
  [true, false, true],
  [false, true, true],
  [true, true, true],
  [true, true, false],
];
const label = ([r, a, b]: [boolean, boolean, boolean]) => `${b ? 'bias' : 'no bias'}${r ? ' + relu' : ''}${a ? ' + scale/shift' : ''}`;

function inputs([M, N, K]: [number, number, number], [, affine, withBias]: [boolean, boolean, boolean]) {
  return {
    a: randomArray(M * K),
    b: randomArray(N * K),
    bias: withBias ? randomArray(N) : null,
    scale: affine ? randomArray(N, -2, 2) : null,
    shift: affine ? randomArray(N) : null,
  };
}

type Inputs = ReturnType<typeof inputs>;

function run(be: BackendName, [M, N, K]: [number, number, number], relu: boolean, v: Inputs): Promise<Float32Array> {
  const t = (x: Float32Array | null) => (x ? tensor(x, [N], be) : null);
  return matmul(tensor(v.a, [M, K], be), tensor(v.b, [N, K], be), { transB: true, bias: t(v.bias), relu, scale: t(v.scale), shift: t(v.shift) }).read();
}

describe('matmul epilogue: CPU against the float64 definition', () => {
  for (const shape of SHAPES) {
    for (const ep of EPILOGUES) {
      it(`M=${shape[0]} N=${shape[1]} K=${shape[2]} ${label(ep)}`, async () => {
        const [M, N, K] = shape;
        const v = inputs(shape, ep);
        const want = new Float64Array(M * N);
        matmulRef(toF64(v.a), toF64(v.b), v.bias ? toF64(v.bias) : null, want, M, N, K, false, true);
        for (let i = 0; i < want.length; i++) {
          const n = i % N;
          if (ep[0]) want[i] = Math.max(want[i], 0);
          if (v.scale && v.shift) want[i] = want[i] * v.scale[n] + v.shift[n];
        }
        // Float32 dot products of at most 33 terms (6e-8 relative each), then one rounding of
        // a product and a sum with |scale| ≤ 2.
        expectClose(await run('cpu', shape, ep[0], v), want, 1e-5, 'fused matmul');
      });
    }
  }

  it('relu: true is relu(matmul(…)) bit for bit', async () => {
    const [M, N, K] = [6, 11, 9];
    const v = inputs([M, N, K], [true, false, true]);
    const a = tensor(v.a, [M, K], 'cpu');
    const b = tensor(v.b, [N, K], 'cpu');
    const bias = tensor(v.bias!, [N], 'cpu');
    const fused = await matmul(a, b, { transB: true, bias, relu: true }).read();
    const apart = await relu(matmul(a, b, { transB: true, bias })).read();
    expect(fused.some((y) => y === 0) && fused.some((y) => y > 0), 'relu cut some outputs and kept others').toBe(true);
    expect(Array.from(fused)).toEqual(Array.from(apart));
  });
});

describe('matmul epilogue: WebGPU against the CPU twin', () => {
  for (const tiles of [REGISTER_TILES, REGISTER_SCALAR_TILES, SHARED_TILES]) {
    SHAPES.forEach((shape, i) => {
      const ep = EPILOGUES[i % EPILOGUES.length];
      const name = `${tiles.variant}${tiles.vec4 ? '+vec4' : ''} M=${shape[0]} N=${shape[1]} K=${shape[2]} ${label(ep)}`;
      it.skipIf(!gpu)(name, async () => {
        setGemmTiles(tiles);
        try {
          const v = inputs(shape, ep);
          expectClose(await run('webgpu', shape, ep[0], v), await run('cpu', shape, ep[0], v), GPU_TOLERANCE, 'fused matmul');
        } finally {
          setGemmTiles(null);
        }
      });
    });
  }

  it.skipIf(!gpu)('one dispatch for matmul + bias + relu + scale/shift', async () => {
    const shape: [number, number, number] = [4, 9, 8];
    const v = inputs(shape, [true, true, true]);
    const t = (x: Float32Array, s: number[]) => tensor(x, s, 'webgpu');
    const args = [t(v.a, [4, 8]), t(v.b, [9, 8])] as const;
    const o = { transB: true, bias: t(v.bias!, [9]), relu: true, scale: t(v.scale!, [9]), shift: t(v.shift!, [9]) };
    // Poisoning fills every new output with a kernel of its own: off while counting.
    debug.poison = false;
    const before = gpu!.dispatches;
    const c = matmul(...args, o);
    debug.poison = true;
    expect(gpu!.dispatches - before).toBe(1);
    expectClose(await c.read(), await run('cpu', shape, true, v), GPU_TOLERANCE, 'fused matmul');
  });
});

describe('matmul epilogue: bad input', () => {
  const a = () => tensor(randomArray(6), [2, 3], 'cpu');
  const b = () => tensor(randomArray(12), [4, 3], 'cpu');
  const k = (n: number) => tensor(randomArray(n), [n], 'cpu');

  it('scale and shift together, one per output column; relu a boolean', () => {
    expect(() => matmul(a(), b(), { transB: true, scale: k(4) })).toThrow(/^matmul: got scale without shift, wanted both or neither$/);
    expect(() => matmul(a(), b(), { transB: true, scale: k(4), shift: k(3) })).toThrow(/^matmul: shift has shape \[3\], wanted \[4\] one per output column$/);
    expect(() => matmul(a(), b(), { transB: true, relu: 'yes' as unknown as boolean })).toThrow(/^matmul: relu must be true or false, got yes$/);
  });

  it('refuses a disposed scale or shift', () => {
    const s = k(4);
    s.dispose();
    expect(() => matmul(a(), b(), { transB: true, scale: k(4), shift: s })).toThrow(/^matmul: shift \[4\] was disposed$/);
  });

  it.skipIf(!gpu)('refuses a scale on another backend', () => {
    const s = tensor(randomArray(4), [4], 'webgpu');
    expect(() => matmul(a(), b(), { transB: true, scale: s, shift: s })).toThrow(/^matmul: scale is on webgpu but a is on cpu$/);
  });
});
