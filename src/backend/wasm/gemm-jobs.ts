import type { WasmBackend } from './backend.ts';
import { filterParts, JOB, KC, NC, scratchBytes } from './drivers.ts';

// The three products the ops hand to the WebAssembly kernels, given byte addresses in the
// shared memory: pack the left operand once (the weights, once per layer per pass), run the
// job on the threads (drivers.ts), give the scratch back.

/** Geometry of a convolution (the sizes conv2dGeometry computes). */
export interface ConvGeometry {
  N: number; C: number; H: number; W: number; R: number; S: number;
  OH: number; OW: number; padTop: number; padLeft: number; stride: number;
}

/** Below this many multiply-adds a job stays on the calling thread. */
const PARALLEL_MIN_MACS = 1 << 20;

function partsFor(be: WasmBackend, macs: number, pieces: number): number {
  return macs < PARALLEL_MIN_MACS ? 1 : Math.max(1, Math.min(be.threadCount, pieces));
}

/** Packs rows 0..M of a strided M×Kdim matrix into gemm.wat's 4-row panels, one slice of KC columns after another. */
function packLeft(be: WasmBackend, src: number, M: number, Kdim: number, rs: number, cs: number): { at: number; bytes: number } {
  const Mpad = Math.ceil(M / 4) * 4;
  const bytes = 4 * Mpad * Kdim;
  const at = be.scratch(bytes);
  for (let k0 = 0; k0 < Kdim; k0 += KC) {
    be.kernels.pack_a(src + 4 * k0 * cs, M, Math.min(KC, Kdim - k0), rs, cs, at + 4 * Mpad * k0);
  }
  return { at, bytes };
}

/**
 * x with its zero border (conv.wat's pad_copy), so that every tap reads inside xp, and the
 * geometry conv.wat reads (C, Hp, Wp, R, S, OH, OW, stride). Without padding x is used as it is.
 */
interface Padded {
  xp: number;
  geo: number;
  release(): void;
}

function padded(be: WasmBackend, g: ConvGeometry, x: number): Padded {
  const Hp = Math.max(g.padTop + g.H, (g.OH - 1) * g.stride + g.R);
  const Wp = Math.max(g.padLeft + g.W, (g.OW - 1) * g.stride + g.S);
  const copy = Hp !== g.H || Wp !== g.W;
  const bytes = 4 * g.N * g.C * Hp * Wp;
  const xp = copy ? be.scratch(bytes) : x;
  if (copy) be.kernels.pad_copy(x, xp, g.N * g.C, g.H, g.W, Hp, Wp, g.padTop, g.padLeft);
  const geo = be.scratch(64);
  be.heap.i32(geo, 8).set([g.C, Hp, Wp, g.R, g.S, g.OH, g.OW, g.stride]);
  return {
    xp,
    geo,
    release: () => {
      be.free(geo, 64);
      if (copy) be.free(xp, bytes);
    },
  };
}

/** Optional per-filter or per-column vectors: an address, or 0 for absent. */
export interface EpilogueAddresses {
  bias: number;
  scale: number;
  shift: number;
  relu: boolean;
}

/**
 * y[N,K,OH,OW] = conv(x, w[K,C,R,S]) with the epilogue, as one product over the whole batch:
 * W[K × CRS] · col[CRS × N·OH·OW], col gathered slice by slice (pack_b_conv).
 */
export function convForwardJob(be: WasmBackend, g: ConvGeometry, K: number, x: number, w: number, y: number, e: EpilogueAddresses): void {
  const CRS = g.C * g.R * g.S;
  const cols = g.N * g.OH * g.OW;
  const a = packLeft(be, w, K, CRS, CRS, 1);
  const pad = padded(be, g, x);
  const parts = partsFor(be, K * CRS * cols, Math.ceil(cols / NC));
  const per = scratchBytes(JOB.convForward, K, 0);
  const scratch = be.scratch(per * parts);
  try {
    const p = Int32Array.of(JOB.convForward, pad.xp, pad.geo, a.at, K, CRS, cols, g.OH * g.OW, y, e.bias, e.scale, e.shift, e.relu ? 1 : 0, scratch, per);
    be.run(p, parts);
  } finally {
    be.free(scratch, per * parts);
    pad.release();
    be.free(a.at, a.bytes);
  }
}

/**
 * dw[K,C,R,S] = Σ over the batch of dY[K × pixels] · colᵀ: the pixels are split between the
 * threads, each summing its share into its own K×CRS partial; the partials are added here.
 */
export function convBackwardFilterJob(be: WasmBackend, g: ConvGeometry, K: number, x: number, dy: number, dw: Float32Array): void {
  const CRS = g.C * g.R * g.S;
  const pixels = g.N * g.OH * g.OW;
  const pad = padded(be, g, x);
  const parts = filterParts(pixels, partsFor(be, K * CRS * pixels, Math.ceil(pixels / KC)));
  const partialBytes = 4 * K * CRS * parts;
  const partials = be.scratch(partialBytes);
  const per = scratchBytes(JOB.convBackwardFilter, K, CRS);
  const scratch = be.scratch(per * parts);
  try {
    const p = Int32Array.of(JOB.convBackwardFilter, pad.xp, pad.geo, dy, K, CRS, pixels, g.OH * g.OW, partials, scratch, per);
    be.run(p, parts);
    const sums = be.heap.f32(partials, K * CRS * parts);
    dw.set(sums.subarray(0, K * CRS));
    for (let t = 1; t < parts; t++) {
      const off = t * K * CRS;
      for (let i = 0; i < K * CRS; i++) dw[i] += sums[off + i];
    }
  } finally {
    be.free(scratch, per * parts);
    be.free(partials, partialBytes);
    pad.release();
  }
}

/**
 * C[M×N] (row-major at c) = A·B with A(m,k) at a + 4(m·ars + k·acs) and B(k,n) at
 * b + 4(k·brs + n·bcs), then the epilogue per column.
 */
/** Up to this many rows of A, matmul reads B unpacked (gemm.wat's gemm_rows). */
export const FEW_ROWS = 4;

export function matmulJob(
  be: WasmBackend, M: number, N: number, K: number,
  a: number, ars: number, acs: number, b: number, brs: number, bcs: number, c: number, e: EpilogueAddresses,
): void {
  if (K === 0) {
    be.heap.f32(c, M * N).fill(0);
  } else if (M <= FEW_ROWS && bcs === 1) {
    // A dense layer at batch 1–4: B read in place (packing it would cost more than the product).
    be.kernels.gemm_rows(a, ars, acs, b, brs, c, N, M, N, K);
  } else if (M <= FEW_ROWS && brs === 1 && acs === 1) {
    // The same with B transposed (a dense layer's [outputs, inputs] weight): row · row dot products.
    be.kernels.gemm_rows_t(a, ars, b, bcs, c, N, M, N, K);
  } else {
    const left = packLeft(be, a, M, K, ars, acs);
    const parts = partsFor(be, M * N * K, Math.ceil(N / NC));
    const per = scratchBytes(JOB.matmul, M, 0);
    const scratch = be.scratch(per * parts);
    try {
      const p = Int32Array.of(JOB.matmul, left.at, b, brs, bcs, M, K, N, c, N, 0, 0, 0, scratch, per);
      be.run(p, parts);
    } finally {
      be.free(scratch, per * parts);
      be.free(left.at, left.bytes);
    }
  }
  if (e.bias || e.scale || e.shift || e.relu) be.kernels.finish_cols(c, M, N, e.bias, e.scale, e.shift, e.relu ? 1 : 0);
}
