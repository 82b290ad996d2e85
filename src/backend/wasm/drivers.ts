import type { WasmKernels } from './module.ts';

// The loops around the kernels: which slice of which operand is packed where, and which
// thread computes which part. One job is one whole product (a layer's pass over the batch);
// `part` of `parts` threads runs its share of it. runJob is self-contained (no imports, no
// closures) because worker threads run its source text (threads.ts).

/** Job codes, the first i32 of a job. */
export const JOB = {
  convForward: 1, convBackwardFilter: 2, matmul: 3,
  relu: 5, reluBackward: 6, maxPool: 7, batchNormTrain: 8, batchNormBackward: 9, batchNormInfer: 10,
} as const;

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
  if (code === 5 || code === 6) {
    // relu [5, x, y, n] and its backward [6, y, dy, dx, n]: this part's run of multiples of 4.
    const n = code === 5 ? p[3] : p[4];
    const per = Math.ceil(n / parts / 4) * 4;
    const i0 = Math.min(n, part * per);
    const count = Math.min(n, i0 + per) - i0;
    if (count <= 0) return;
    if (code === 5) k.relu(p[1] + 4 * i0, p[2] + 4 * i0, count);
    else k.relu_backward(p[1] + 4 * i0, p[2] + 4 * i0, p[3] + 4 * i0, count);
    return;
  }
  if (code === 7) {
    // 2×2 max-pool [7, x, y, planes, H, W, dy, dx] (dy 0: forward): this part's planes.
    const planes = p[3], H = p[4], W = p[5];
    const per = Math.ceil(planes / parts);
    const p0 = Math.min(planes, part * per);
    const count = Math.min(planes, p0 + per) - p0;
    if (count <= 0) return;
    const inBytes = 4 * H * W * p0;
    const outBytes = 4 * (H >> 1) * (W >> 1) * p0;
    if (p[6] === 0) k.maxpool2x2(p[1] + inBytes, p[2] + outBytes, count, H, W, 0, 0);
    else k.maxpool2x2(p[1] + inBytes, 0, count, H, W, p[6] + outBytes, p[7] + inBytes);
    return;
  }
  if (code >= 8 && code <= 10) {
    // Batch norm over this part's channels (see batchnorm.ts for the formulas):
    //  8 train    [8, x, y, N, C, S, gamma, beta, mean, invStd, variance, epsBits]
    //  9 backward [9, x, dy, dx, N, C, S, gamma, mean, invStd, dgamma, dbeta]
    // 10 infer    [10, x, y, N, C, S, gamma, beta, runningMean, runningVar, epsBits]
    const N = p[3 + (code === 9 ? 1 : 0)], C = p[4 + (code === 9 ? 1 : 0)], S = p[5 + (code === 9 ? 1 : 0)];
    const M = N * S;
    const per = Math.ceil(C / parts);
    // No helper functions in here: tsx names them with a helper the workers' copy lacks.
    const eps = new Float32Array(Int32Array.of(code === 8 ? p[11] : p[10]).buffer)[0];
    for (let c = part * per; c < Math.min(C, (part + 1) * per); c++) {
      if (code === 8) {
        const x = p[1];
        const m = k.chan_dot(x, 0, N, C, S, c, 0, 0) / M;
        const v = k.chan_dot(x, x, N, C, S, c, m, m) / M;
        const inv = 1 / Math.sqrt(v + eps);
        k.chan_affine(0, x, p[2], N, C, S, c, 0, k.f32_get(p[6] + 4 * c) * inv, m, k.f32_get(p[7] + 4 * c));
        k.f32_set(p[8] + 4 * c, m);
        k.f32_set(p[9] + 4 * c, inv);
        k.f32_set(p[10] + 4 * c, v);
      } else if (code === 9) {
        const x = p[1], dy = p[2];
        const mean = k.f32_get(p[8] + 4 * c), inv = k.f32_get(p[9] + 4 * c);
        const sdy = k.chan_dot(dy, 0, N, C, S, c, 0, 0);
        const dg = k.chan_dot(dy, x, N, C, S, c, 0, mean) * inv;
        const gi = k.f32_get(p[7] + 4 * c) * inv;
        const k2 = (-gi * inv * dg) / M;
        k.f32_set(p[11] + 4 * c, sdy);
        k.f32_set(p[10] + 4 * c, dg);
        k.chan_affine(dy, x, p[3], N, C, S, c, gi, k2, mean, (-gi * sdy) / M);
      } else {
        const scale = k.f32_get(p[6] + 4 * c) / Math.sqrt(k.f32_get(p[9] + 4 * c) + eps);
        k.chan_affine(0, p[1], p[2], N, C, S, c, 0, scale, k.f32_get(p[8] + 4 * c), k.f32_get(p[7] + 4 * c));
      }
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
