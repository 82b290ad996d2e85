// matmul.wgsl: C = op(A)·op(B) + bias, where op() optionally transposes. This is the dense
// layer: forward y = x·Wᵀ + b, and backward dx = dy·W, dW = dyᵀ·x.
//
// This file only says how to address the operands; the tiled loop is gemm.wgsl, appended by
// the dispatcher (see its header for which invocation computes which outputs and what goes
// through workgroup memory). Row-major storage: A is M×K (K×M when transA), B is K×N (N×K
// when transB), C is M×N; bias has N values and is added to every row.
// Work per output: K multiply-adds.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  transA: u32,
  transB: u32,
  hasBias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

fn gemmDims() -> vec3u {
  return vec3u(p.M, p.N, p.K);
}

fn loadA(m: u32, k: u32) -> f32 {
  if (p.transA != 0u) {
    return A[k * p.M + m];
  }
  return A[m * p.K + k];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (p.transB != 0u) {
    return B[n * p.K + k];
  }
  return B[k * p.N + n];
}

fn storeC(m: u32, n: u32, v: f32) {
  var r = v;
  if (p.hasBias != 0u) {
    r += bias[n];
  }
  C[m * p.N + n] = r;
}
