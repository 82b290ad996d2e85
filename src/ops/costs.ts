// What each kernel computes and moves, for the rates `fer kernels` prints: one function per op
// (the layers' kernel plans in src/ops/kernel-use.ts attach them to each dispatch).
//
// FLOPs count the arithmetic the op needs (a multiply-add is 2; a comparison, a max or an
// exponential is 1). Bytes are the traffic of our dispatches if each reads every input element
// once and writes every output element once: the least a kernel of that structure can move, so
// GB/s is a lower bound on what the memory system delivered. GEMM-shaped kernels (matmul and
// the convolution passes) are compute-bound and are rated in GFLOP/s; everything else does a few
// operations per element and is rated in GB/s.
import type { Conv2dGeometry } from './conv2d.ts';
import type { Pool2dGeometry } from './maxpool2d.ts';

export interface Cost {
  flops: number;
  bytes: number;
  bound: 'compute' | 'memory';
}

const F32 = 4;

/** C[M,N] = A[M,K]·B[K,N] (+ bias[N]): 2MNK FLOPs (+MN for the bias); A, B, bias read, C written. */
export function matmulCost(M: number, N: number, K: number, bias: boolean): Cost {
  return {
    flops: 2 * M * N * K + (bias ? M * N : 0),
    bytes: F32 * (M * K + K * N + M * N + (bias ? N : 0)),
    bound: 'compute',
  };
}

export type ConvPass = 'forward' | 'backward-input' | 'backward-filter';

/**
 * Each pass is a product with N·K·OH·OW·C·R·S multiply-adds (conv2dFlops). Forward reads x, w,
 * bias and writes y; backward-input reads dy, w and writes dx; backward-filter reads x, dy and
 * writes dw.
 */
export function conv2dCost(g: Conv2dGeometry, pass: ConvPass): Cost {
  const x = g.N * g.C * g.H * g.W;
  const w = g.K * g.C * g.R * g.S;
  const y = g.N * g.K * g.OH * g.OW;
  const flops = 2 * y * g.C * g.R * g.S;
  const elements = pass === 'forward' ? x + w + g.K + y : pass === 'backward-input' ? y + w + x : x + y + w;
  return { flops, bytes: F32 * elements, bound: 'compute' };
}

/**
 * Forward: size²−1 comparisons per output; reads x, writes y. Backward: our kernel recomputes
 * the argmax of every window holding an input, so the comparisons are those of the forward at
 * least; reads x and dy, writes dx.
 */
export function maxPool2dCost(g: Pool2dGeometry, pass: 'forward' | 'backward'): Cost {
  const x = g.N * g.C * g.H * g.W;
  const y = g.N * g.C * g.OH * g.OW;
  const flops = y * (g.size * g.size - 1);
  return { flops, bytes: F32 * (pass === 'forward' ? x + y : x + y + x), bound: 'memory' };
}

/**
 * x is N×C×S (S = H·W), n = N·C·S values, the same count both ways: forward adds the n values
 * (and scales N·C sums), reads x, writes y[N·C]; backward multiplies n times, reads dy, writes dx.
 */
export function globalAvgPoolCost(N: number, C: number, S: number, _pass: 'forward' | 'backward'): Cost {
  const n = N * C * S;
  return { flops: n, bytes: F32 * (n + N * C), bound: 'memory' };
}

export type BatchNormMode = 'train' | 'infer' | 'backward';

/**
 * x is N×C×S (S = 1 after a dense layer), n = N·C·S values.
 *   train: the statistics pass reads x and the running mean and variance (Welford: 4 FLOPs per
 *     value) and writes 4 values per channel (the running pair, mean, invStd); the apply pass
 *     reads x and 4 per-channel values and writes y (3 FLOPs per value: subtract, scale, shift).
 *   infer: the apply pass alone.
 *   backward: the reduction reads x, dy, mean and invStd (4 FLOPs per value for dgamma and dbeta)
 *     and writes 2 per channel; the dx pass reads x, dy and 5 per-channel values and writes dx
 *     (6 FLOPs per value).
 */
export function batchNormCost(N: number, C: number, S: number, mode: BatchNormMode): Cost {
  const n = N * C * S;
  if (mode === 'train') return { flops: 7 * n, bytes: F32 * (n + 2 * C + 4 * C + (n + 4 * C + n)), bound: 'memory' };
  if (mode === 'infer') return { flops: 3 * n, bytes: F32 * (n + 4 * C + n), bound: 'memory' };
  return { flops: 10 * n, bytes: F32 * (2 * n + 2 * C + 2 * C + (2 * n + 5 * C + n)), bound: 'memory' };
}

/** Forward: one max per value, reads x, writes y. Backward: one select, reads y and dy, writes dx. */
export function reluCost(n: number, pass: 'forward' | 'backward'): Cost {
  return { flops: n, bytes: F32 * (pass === 'forward' ? 2 * n : 3 * n), bound: 'memory' };
}

/** Either direction: a hash (integer work, not counted) and one multiply per value; reads one array, writes one. */
export function dropoutCost(n: number): Cost {
  return { flops: n, bytes: F32 * 2 * n, bound: 'memory' };
}

/**
 * Per row of K logits: max, subtract, exp, sum, divide, and the gradient p − onehot (6 per
 * logit); reads logits and labels, writes dlogits, one loss share per row and the loss.
 */
export function softmaxCrossEntropyCost(N: number, K: number): Cost {
  return { flops: 6 * N * K, bytes: F32 * (N * K + N + N * K + N + 1), bound: 'memory' };
}

/** Bias gradients: sums each channel of x[N,C,S] (one add per value); reads x, writes C values. */
export function sumChannelsCost(N: number, C: number, S: number): Cost {
  return { flops: N * C * S, bytes: F32 * (N * C * S + C), bound: 'memory' };
}

/**
 * SGD with momentum and weight decay over n parameters: g = grad + wd·param, v = m·v + g,
 * param −= lr·v (6 FLOPs); reads grad, param and v, writes param and v.
 */
export function sgdCost(n: number): Cost {
  return { flops: 6 * n, bytes: F32 * 5 * n, bound: 'memory' };
}

/**
 * Adam over n parameters: two moment updates (6), a square root, a divide, a multiply-add and
 * the decay (12 in all, the square root counted as 1); reads grad, param, m, v, writes param, m, v.
 */
export function adamCost(n: number): Cost {
  return { flops: 12 * n, bytes: F32 * 7 * n, bound: 'memory' };
}

/** Rates from a cost and a time: GFLOP/s, and GB/s for memory-bound kernels (null otherwise). */
export function rates(c: Cost, ms: number): { gflops: number; gbs: number | null } {
  const s = ms / 1000;
  return { gflops: c.flops / s / 1e9, gbs: c.bound === 'memory' ? c.bytes / s / 1e9 : null };
}
