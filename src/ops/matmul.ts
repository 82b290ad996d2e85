import matmulWgsl from '../../shaders/matmul.wgsl';
import { checkRank, checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { formatShape, type Tensor } from '../backend/tensor.ts';
import { byBackend } from '../backend/dispatch.ts';
import { addressOf, wasmOf } from '../backend/wasm/backend.ts';
import { matmulJob } from '../backend/wasm/gemm-jobs.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { checkEpilogue, epilogueFlags, finishRef, type Epilogue } from './epilogue.ts';
import { gemmCpu, gemmGrid, gemmKernel, gemmLabel, gemmTiles, type GemmTiles } from './gemm.ts';
import { packParams, u32 } from '../backend/webgpu/kernel.ts';

/**
 * With `relu` and/or `scale`/`shift` (one per column, see epilogue.ts), each output becomes
 * relu(… + bias[n])·scale[n] + shift[n] in the same pass: a dense layer, its activation and a
 * following inference batch norm in one dispatch.
 */
export interface MatmulOptions extends Epilogue {
  /** Use Aᵀ: A is stored K×M. */
  transA?: boolean;
  /** Use Bᵀ: B is stored N×K. */
  transB?: boolean;
  /** N values added to every row of the result. */
  bias?: Tensor | null;
}

// ---- shapes ----

export function matmulDims(a: readonly number[], b: readonly number[], o: MatmulOptions): { M: number; N: number; K: number } {
  const [M, K] = o.transA ? [a[1], a[0]] : [a[0], a[1]];
  const [Kb, N] = o.transB ? [b[1], b[0]] : [b[0], b[1]];
  if (K !== Kb) {
    const ta = o.transA ? 'ᵀ' : '';
    const tb = o.transB ? 'ᵀ' : '';
    throw new FerError(`matmul: A${ta} is ${M}×${K} but B${tb} is ${Kb}×${N} (A ${formatShape(a)}, B ${formatShape(b)}): inner sizes differ`);
  }
  return { M, N, K };
}

// ---- CPU reference: C[m,n] = bias[n] + Σ_k A(m,k)·B(k,n) ----
// The specification, in its plainest form. The CPU backend runs the same product through
// gemmCpu (gemm.ts), which is register-blocked for speed and tested against this.

export function matmulRef(
  a: Floats, b: Floats, bias: Floats | null, c: Floats,
  M: number, N: number, K: number, transA = false, transB = false,
): void {
  const A = (m: number, k: number) => (transA ? a[k * M + m] : a[m * K + k]);
  if (transB) {
    // B is N×K: each output is a dot product of two rows read front to back.
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n] : 0;
        for (let k = 0; k < K; k++) s += A(m, k) * b[n * K + k];
        c[m * N + n] = s;
      }
    }
    return;
  }
  // B is K×N: add A(m,k) times row k of B into row m of C, so the inner loop runs along rows.
  for (let m = 0; m < M; m++) {
    const row = m * N;
    for (let n = 0; n < N; n++) c[row + n] = bias ? bias[n] : 0;
    for (let k = 0; k < K; k++) {
      const amk = A(m, k);
      if (amk === 0) continue;
      const brow = k * N;
      for (let n = 0; n < N; n++) c[row + n] += amk * b[brow + n];
    }
  }
}

// ---- WebGPU ----

/**
 * Whether the register tiles can read A and B as vec4 (shaders/gemm_vec4.wgsl): A's rows must
 * run along k in whole vec4 (not transposed, K a multiple of 4), and so must B's, either its
 * rows along n (N a multiple of 4) or, transposed, along k.
 */
function vec4Fits(tiles: GemmTiles, N: number, K: number, o: MatmulOptions): boolean {
  return tiles.variant === 'registers' && tiles.vec4 === true && !o.transA && K % 4 === 0 && (o.transB === true || N % 4 === 0);
}

/** Which GEMM kernel a matmul of these sizes runs on `gpu` (see gemmLabel). */
export function matmulPath(gpu: WebGpuBackend, M: number, N: number, K: number, o: MatmulOptions): string {
  const tiles = gemmTiles(gpu, 'dense');
  return gemmLabel(tiles, vec4Fits(tiles, N, K, o));
}

// ---- the op ----

export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const bias = options.bias ?? null;
  const scale = options.scale ?? null;
  const shift = options.shift ?? null;
  checkTensors('matmul', { a, b, bias, scale, shift });
  checkRank('matmul', 'a', a, 2, '(a matrix)');
  checkRank('matmul', 'b', b, 2, '(a matrix)');
  const { M, N, K } = matmulDims(a.shape, b.shape, options);
  if (bias) checkShape('matmul', 'bias', bias, [N], 'one per output column');
  checkEpilogue('matmul', options, N, 'one per output column');
  const c = empty([M, N], a.backend);
  const cpu = (): void => {
    const out = cpuData(c);
    gemmCpu(M, N, K, { data: cpuData(a), trans: options.transA }, { data: cpuData(b), trans: options.transB }, out);
    if (bias || options.relu || scale) {
      const e = { bias: bias ? cpuData(bias) : null, relu: options.relu ?? false, scale: scale ? cpuData(scale) : null, shift: shift ? cpuData(shift) : null };
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) out[m * N + n] = finishRef(out[m * N + n], n, e);
    }
  };
  const wasm = (): void => {
    // A(m,k) and B(k,n) as strides into the stored (possibly transposed) matrices.
    const [ars, acs] = options.transA ? [1, M] : [K, 1];
    const [brs, bcs] = options.transB ? [1, K] : [N, 1];
    const at = (t: Tensor | null): number => (t ? addressOf(t) : 0);
    const e = { bias: at(bias), scale: at(scale), shift: at(shift), relu: options.relu ?? false };
    matmulJob(wasmOf(a), M, N, K, addressOf(a), ars, acs, addressOf(b), brs, bcs, addressOf(c), e);
  };
  byBackend(a, { cpu, wasm, webgpu: () => matmulGpu(a, b, c, M, N, K, options) });
  return c;
}

function matmulGpu(a: Tensor, b: Tensor, c: Tensor, M: number, N: number, K: number, options: MatmulOptions): void {
  const bias = options.bias ?? null;
  const scale = options.scale ?? null;
  const shift = options.shift ?? null;
  const gpu = gpuOf(a);
  const tiles = gemmTiles(gpu, 'dense');
  const vec4 = vec4Fits(tiles, N, K, options);
  const kernel = gemmKernel('matmul', matmulWgsl, tiles, ['read', 'read', 'read', 'read', 'read', 'write'], {}, vec4);
  const flags = epilogueFlags(bias !== null, options);
  const params = packParams([M, N, K, options.transA ? 1 : 0, options.transB ? 1 : 0, ...flags].map(u32));
  const none = gpu.placeholder;
  gpu.run(kernel, [a, b, bias ?? none, scale ?? none, shift ?? none, c], params, gemmGrid(M, N, tiles, vec4));
}
