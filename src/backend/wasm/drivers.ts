import type { WasmKernels } from './module.ts';

// The loops around the kernels: which slice of which operand is packed where, and which
// thread computes which part. One job is one whole product (a layer's pass over the batch);
// `part` of `parts` threads runs its share of it. runJob is self-contained (no imports, no
// closures) because worker threads run its source text (threads.ts).

/** Job codes, the first i32 of a job. */
export const JOB = { convForward: 1, convBackwardFilter: 2, matmul: 3 } as const;

/** Slices: a packed B slice is KC × NC floats (256 KiB), an A slice M × KC (≤ 192 KiB for 192 rows). */
export const KC = 256;
export const NC = 256;

/** Scratch bytes one thread needs for a job: its packed slices, its block of C, and the 128 bytes gemm.wat uses for edge blocks. */
export function scratchBytes(code: number, M: number, N: number): number {
  const pad4 = Math.ceil(M / 4) * 4;
  const pad8 = Math.ceil(N / 8) * 8;
  if (code === JOB.convBackwardFilter) return 4 * (pad4 * KC + pad8 * KC + 32);
  return 4 * (NC * KC + pad4 * NC + 32);
}

/**
 * Runs part `part` of `parts` of the job described by p (i32s; the layouts are written by
 * gemm-jobs.ts). Splits are contiguous ranges of 256-column blocks (forward, matmul) or of pixels
 * (backward-filter), so each thread packs and computes its own slices.
 */
export function runJob(k: WasmKernels, p: Int32Array, part: number, parts: number): void {
  const code = p[0];
  const kcMax = 256, ncMax = 256;
  if (code === 1 || code === 3) {
    // 1: conv forward   [1, xp, g, aPacked, M, Kdim, Ncols, P, y, bias, scale, shift, relu, scratch, stride]
    // 3: matmul         [3, aPacked, b, brs, bcs, M, Kdim, Ncols, c, ldc, 0, 0, 0, scratch, stride]
    const M = p[4 + (code === 3 ? 1 : 0)];
    const Kdim = code === 1 ? p[5] : p[6];
    const Ncols = code === 1 ? p[6] : p[7];
    const aPacked = code === 1 ? p[3] : p[1];
    const Mpad = (M + 3) & ~3;
    const blocks = Math.ceil(Ncols / ncMax);
    const per = Math.ceil(blocks / parts);
    const base = p[13] + part * p[14];
    const bBuf = base;
    const cBuf = bBuf + 4 * kcMax * ncMax;
    const tmp = cBuf + 4 * Mpad * ncMax;
    for (let blk = part * per; blk < Math.min(blocks, (part + 1) * per); blk++) {
      const j0 = blk * ncMax;
      const nc = Math.min(ncMax, Ncols - j0);
      for (let k0 = 0; k0 < Kdim; k0 += kcMax) {
        const kc = Math.min(kcMax, Kdim - k0);
        const aSlice = aPacked + 4 * Mpad * k0;
        if (code === 1) {
          k.pack_b_conv(p[1], p[2], j0, nc, k0, kc, bBuf);
          k.gemm(aSlice, bBuf, cBuf, M, nc, kc, nc, k0 > 0 ? 1 : 0, tmp);
        } else {
          k.pack_b(p[2] + 4 * (k0 * p[3] + j0 * p[4]), kc, nc, p[3], p[4], bBuf);
          k.gemm(aSlice, bBuf, p[8] + 4 * j0, M, nc, kc, p[9], k0 > 0 ? 1 : 0, tmp);
        }
      }
      if (code === 1) k.store_conv(cBuf, p[8], M, p[7], j0, nc, p[9], p[10], p[11], p[12]);
    }
    return;
  }
  if (code === 2) {
    // conv backward-filter [2, xp, g, dy, Kf, CRS, Npix, P, partials, scratch, stride]:
    // this part's pixels j0 .. j1 give partials[part] = dY[:, j0..j1] · col[:, j0..j1]ᵀ.
    const Kf = p[4], CRS = p[5], Npix = p[6], P = p[7];
    const Kpad = (Kf + 3) & ~3;
    const slices = Math.ceil(Npix / kcMax);
    const per = Math.ceil(slices / parts);
    const out = p[8] + part * 4 * Kf * CRS;
    const aBuf = p[9] + part * p[10];
    const bBuf = aBuf + 4 * Kpad * kcMax;
    const tmp = bBuf + 4 * (((CRS + 7) & ~7) * kcMax);
    for (let s = part * per; s < Math.min(slices, (part + 1) * per); s++) {
      const j0 = s * kcMax;
      const kc = Math.min(kcMax, Npix - j0);
      k.pack_a_dy(p[3], Kf, P, j0, kc, aBuf);
      k.pack_bt_conv(p[1], p[2], j0, kc, bBuf);
      k.gemm(aBuf, bBuf, out, Kf, CRS, kc, CRS, s > part * per ? 1 : 0, tmp);
    }
    return;
  }
  throw new Error(`wasm: unknown job ${code}`);
}

/** How many parts of a backward-filter job have pixels (the others write nothing). */
export function filterParts(Npix: number, parts: number): number {
  const slices = Math.ceil(Npix / KC);
  const per = Math.ceil(slices / parts);
  return Math.ceil(slices / per);
}
