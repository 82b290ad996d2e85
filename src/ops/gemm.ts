import gemmWgsl from '../../shaders/gemm.wgsl';
import gemmVec4Wgsl from '../../shaders/gemm_vec4.wgsl';
import type { Floats } from '../backend/cpu.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { withConstants, type Kernel } from '../backend/webgpu/kernel.ts';
import { RowThreads, type RowKernel } from './gemm-threads.ts';

// The matrix-product core that matmul and the three convolution passes share: the CPU twin
// below, and the WebGPU kernel (shaders/gemm.wgsl) with its tile choice.

// ---- CPU ----

export interface GemmOperand {
  data: Floats;
  /** Index of element (0, 0). */
  offset?: number;
  /** Stored transposed: A as K×M, B as N×K. */
  trans?: boolean;
}

const scratch = new Map<Function, { a: Floats; b: Floats }>();

function scratchFor(like: Floats, aLen: number, bLen: number): { a: Floats; b: Floats } {
  const Ctor = like.constructor as new (n: number) => Floats;
  let s = scratch.get(Ctor);
  if (!s || s.a.length < aLen || s.b.length < bLen) {
    s = { a: new Ctor(Math.max(aLen, s?.a.length ?? 0)), b: new Ctor(Math.max(bLen, s?.b.length ?? 0)) };
    scratch.set(Ctor, s);
  }
  return s;
}

/** Copies `rows`×`cols` of a row-major matrix into row-major `out`, transposing if asked. */
function pack(src: Floats, offset: number, rows: number, cols: number, transposed: boolean, out: Floats): void {
  if (!transposed) {
    for (let i = 0; i < rows * cols; i++) out[i] = src[offset + i];
    return;
  }
  // src holds the matrix as cols×rows
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = src[offset + c * rows + r];
}

/**
 * Rows m0 ≤ m < m1 of C = A·B (or C += A·B), from operands packed so that K runs along memory:
 * `a` holds A by rows (M×K), `b` holds B by columns (N×K). Each step computes a 4×4 block of C
 * as 16 running dot products held in local variables, loading 8 numbers per 16 multiply-adds,
 * the same idea as the GPU's gemm_registers; that is about four times faster in V8 than the
 * textbook triple loop. Self-contained (no closures): worker threads run its source text.
 */
export function gemmRows(
  a: Floats, b: Floats, c: Floats,
  M: number, N: number, K: number, m0: number, m1: number, cOffset: number, accumulate: boolean,
): void {
  const mEnd = m1 - ((m1 - m0) % 4);
  const N4 = N - (N % 4);
  for (let m = m0; m < mEnd; m += 4) {
    const a0 = m * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    for (let n = 0; n < N4; n += 4) {
      const b0 = n * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
        const y0 = b[b0 + k], y1 = b[b1 + k], y2 = b[b2 + k], y3 = b[b3 + k];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      const c0 = cOffset + m * N + n, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
      if (accumulate) {
        c[c0] += s00; c[c0 + 1] += s01; c[c0 + 2] += s02; c[c0 + 3] += s03;
        c[c1] += s10; c[c1 + 1] += s11; c[c1 + 2] += s12; c[c1 + 3] += s13;
        c[c2] += s20; c[c2 + 1] += s21; c[c2 + 2] += s22; c[c2 + 3] += s23;
        c[c3] += s30; c[c3 + 1] += s31; c[c3 + 2] += s32; c[c3 + 3] += s33;
      } else {
        c[c0] = s00; c[c0 + 1] = s01; c[c0 + 2] = s02; c[c0 + 3] = s03;
        c[c1] = s10; c[c1 + 1] = s11; c[c1 + 2] = s12; c[c1 + 3] = s13;
        c[c2] = s20; c[c2 + 1] = s21; c[c2 + 2] = s22; c[c2 + 3] = s23;
        c[c3] = s30; c[c3 + 1] = s31; c[c3 + 2] = s32; c[c3 + 3] = s33;
      }
    }
  }
  // The ragged right and bottom edges, one dot product at a time.
  for (let m = m0; m < m1; m++) {
    for (let n = m < mEnd ? N4 : 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[m * K + k] * b[n * K + k];
      const i = cOffset + m * N + n;
      c[i] = accumulate ? c[i] + sum : sum;
    }
  }
}

/** Below this many multiply-adds a product is not worth waking other threads for. */
const PARALLEL_MIN_MACS = 1 << 18;
let threads: RowThreads | null | undefined;

/** For tests: `enabled = false` keeps every product on the calling thread; `runs` counts products split across threads. */
export const gemmThreading = { enabled: true, runs: 0 };

/** Threads the CPU GEMM uses (1 where workers are unavailable or FER_THREADS=1). */
export function gemmThreadCount(): number {
  threads ??= RowThreads.create(gemmRows as RowKernel);
  return threads?.threads ?? 1;
}

/**
 * C (M×N, row-major at cOffset) = A·B, or C += A·B when `accumulate`. A is M×K, B is K×N,
 * either possibly stored transposed. Float32 products big enough to pay for it are split by
 * rows across worker threads (Node; see gemm-threads.ts); the answer is the same bit for bit.
 */
export function gemmCpu(M: number, N: number, K: number, A: GemmOperand, B: GemmOperand, c: Floats, cOffset = 0, accumulate = false): void {
  if (gemmThreading.enabled && c instanceof Float32Array && M >= 8 && M * N * K >= PARALLEL_MIN_MACS) {
    threads ??= RowThreads.create(gemmRows as RowKernel);
    if (threads) {
      threads.reserve(M * K, N * K, M * N);
      pack(A.data, A.offset ?? 0, M, K, A.trans ?? false, threads.a);
      pack(B.data, B.offset ?? 0, N, K, !(B.trans ?? false), threads.b);
      const out = threads.c;
      if (accumulate) out.set(c.subarray(cOffset, cOffset + M * N));
      threads.run(M, N, K, accumulate);
      gemmThreading.runs++;
      c.set(out.subarray(0, M * N), cOffset);
      return;
    }
  }
  const s = scratchFor(c, M * K, N * K);
  pack(A.data, A.offset ?? 0, M, K, A.trans ?? false, s.a);
  pack(B.data, B.offset ?? 0, N, K, !(B.trans ?? false), s.b);
  gemmRows(s.a, s.b, c, M, N, K, 0, M, cOffset, accumulate);
}

// ---- WebGPU ----

/**
 * Tile shape of the GEMM core (shaders/gemm.wgsl). 'registers' avoids workgroup memory and
 * barriers (software GPUs); 'shared' stages tiles in workgroup memory (real GPUs).
 */
export interface GemmTiles {
  variant: 'registers' | 'shared';
  /** Outputs per invocation: TM rows by TN columns ('registers': 4×4 or 8×2, each written out in the shader). */
  TM: number;
  TN: number;
  /** Invocations per workgroup: WG_M rows by WG_N columns. */
  WG_M: number;
  WG_N: number;
  /** Depth of a shared-memory tile ('shared' only). */
  BK: number;
  /** 'registers' only: ops whose operands allow it read them as vec4 (shaders/gemm_vec4.wgsl). */
  vec4?: boolean;
}

export const REGISTER_TILES: GemmTiles = { variant: 'registers', TM: 4, TN: 4, WG_M: 8, WG_N: 8, BK: 1, vec4: true };
/** The register kernel with scalar loads everywhere (tests and benchmarks of the fallback). */
export const REGISTER_SCALAR_TILES: GemmTiles = { ...REGISTER_TILES, vec4: false };
/** 8×2 blocks: half the loads of B per multiply-add, twice those of A. */
export const REGISTER_TALL_TILES: GemmTiles = { variant: 'registers', TM: 8, TN: 2, WG_M: 8, WG_N: 8, BK: 1, vec4: true };
export const SHARED_TILES: GemmTiles = { variant: 'shared', TM: 4, TN: 4, WG_M: 16, WG_N: 16, BK: 16 };

let forced: GemmTiles | null = null;

/** Pins every GEMM to one tile shape (tests and benchmarks); null restores the per-adapter choice. */
export function setGemmTiles(tiles: GemmTiles | null): void {
  forced = tiles;
}

/** The tiles pinned by setGemmTiles, or null (the convolutions then run the GEMM core with them). */
export function pinnedGemmTiles(): GemmTiles | null {
  return forced;
}

/**
 * Software adapters get register tiles: their workgroup barriers cost more than the loads saved.
 * Which register block depends on the operands: where loadB gathers (the convolutions' image
 * patches, with integer divisions per element) 8×2 blocks, which load B half as often, ran the
 * three passes of the seed model's heaviest convolution 1.3–1.45× faster than 4×4 on SwiftShader;
 * where both operands are plain reads (matmul's scalar fallback) 4×4 loads less in all and ran
 * a 512³ product 1.3× faster (bench/README.md).
 */
export function gemmTiles(backend: WebGpuBackend, operands: 'gather' | 'dense' = 'gather'): GemmTiles {
  if (forced) return forced;
  const env = typeof process !== 'undefined' ? process.env?.FER_GEMM : undefined;
  const registers = operands === 'gather' ? REGISTER_TALL_TILES : REGISTER_TILES;
  if (env === 'registers') return registers;
  if (env === 'shared') return SHARED_TILES;
  return backend.info.software ? registers : SHARED_TILES;
}

export function tilesKey(t: GemmTiles): string {
  return `${t.variant}:${t.TM}x${t.TN}:${t.WG_M}x${t.WG_N}:${t.BK}${t.vec4 ? ':vec4' : ''}`;
}

/**
 * A GEMM kernel: the op's WGSL (bindings, Params, gemmDims/loadA/loadB/storeC) followed by the
 * shared core, with the tile sizes as constants in front. With `vec4` (the op has checked that
 * its operands allow it, and the tiles are 'registers' with vec4 on) the core is
 * gemm_vec4.wgsl and the op supplies loadA4/loadB4 instead of loadA/loadB.
 */
/** The entry point of gemm.wgsl / gemm_vec4.wgsl that a tile shape runs. */
export function gemmEntry(tiles: GemmTiles, vec4 = false): string {
  if (vec4) return 'gemm_vec4';
  if (tiles.variant === 'shared') return 'gemm_shared';
  return tiles.TM === 8 && tiles.TN === 2 ? 'gemm_registers_8x2' : 'gemm_registers';
}

export function gemmKernel(
  name: string,
  opCode: string,
  tiles: GemmTiles,
  bindings: Kernel['bindings'],
  extra: Record<string, number | boolean> = {},
  vec4 = false,
): Kernel {
  const shape = `${tiles.TM}x${tiles.TN}`;
  if (tiles.variant === 'registers' && shape !== '4x4' && shape !== '8x2') {
    throw new Error(`gemm: the register kernels compute 4×4 or 8×2 blocks, got TM=${tiles.TM} TN=${tiles.TN}`);
  }
  if (vec4 && !(tiles.variant === 'registers' && tiles.vec4)) throw new Error(`gemm: vec4 asked of tiles ${tilesKey(tiles)}`);
  const consts = { TM: tiles.TM, TN: tiles.TN, WG_M: tiles.WG_M, WG_N: tiles.WG_N, BK: tiles.BK, ...extra };
  return {
    key: `${name}|${tilesKey(tiles)}|${vec4 ? 'vec4' : 'scalar'}|${JSON.stringify(extra)}`,
    code: withConstants(`${opCode}\n${vec4 ? gemmVec4Wgsl : gemmWgsl}`, consts),
    entry: gemmEntry(tiles, vec4),
    bindings,
  };
}

/** Workgroups covering an M×N output (the vec4 core always computes 4×4 blocks). */
export function gemmGrid(M: number, N: number, tiles: GemmTiles, vec4 = false): [number, number, number] {
  const [TM, TN] = vec4 ? [4, 4] : [tiles.TM, tiles.TN];
  return [Math.ceil(N / (tiles.WG_N * TN)), Math.ceil(M / (tiles.WG_M * TM)), 1];
}

/** How benchmarks name a GEMM kernel: 'registers 4×4', 'registers 8×2', 'registers+vec4' or 'shared'. */
export function gemmLabel(tiles: GemmTiles, vec4 = false): string {
  if (vec4) return 'registers+vec4';
  return tiles.variant === 'shared' ? 'shared' : `registers ${tiles.TM}×${tiles.TN}`;
}
