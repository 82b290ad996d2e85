// matmul.wgsl: C = op(A)·op(B) + bias, where op() optionally transposes. This is the dense
// layer: forward y = x·Wᵀ + b, and backward dx = dy·W, dW = dyᵀ·x.
//
// This file only says how to address the operands; the tiled loop is gemm.wgsl, appended by
// the dispatcher (see its header for which invocation computes which outputs and what goes
// through workgroup memory). Row-major storage: A is M×K (K×M when transA), B is K×N (N×K
// when transB), C is M×N; bias has N values and is added to every row. storeC then applies the
// optional epilogue per column n: relu, then ·scale[n] + shift[n] (an inference batch norm folded
// in), so a dense layer with its activation and batch norm is this one dispatch.
// Where the adapter uses register tiles with vec4 loads (GemmTiles 'registers' with vec4; never
// the 'shared' variant), A is not transposed, K is a multiple of 4 and (B is transposed or N is
// a multiple of 4), the dispatcher appends gemm_vec4.wgsl instead, which reads A and B as vec4 through the
// second pair of bindings below (the same buffers; each entry point uses one pair).
// Work per output: K multiply-adds.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  transA: u32,
  transB: u32,
  hasBias: u32,
  relu: u32,
  hasAffine: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> shift: array<f32>;
@group(0) @binding(6) var<storage, read_write> C: array<f32>;
@group(0) @binding(1) var<storage, read> A4: array<vec4f>;
@group(0) @binding(2) var<storage, read> B4: array<vec4f>;

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

// A[m][k..k+3] of a row-major M×K A.
fn loadA4(m: u32, k: u32) -> vec4f {
  return A4[(m * p.K + k) / 4u];
}

// Column i of the block is row k+i of B, columns n..n+3. Stored K×N (N a multiple of 4), those
// are four vec4; stored N×K, each of rows n..n+3 of the storage holds a vec4 over k, so the
// block is their transpose (rows past N repeat the last one; gemm_vec4 never stores them).
fn loadB4(k: u32, n: u32) -> mat4x4f {
  if (p.transB != 0u) {
    let last = p.N - 1u;
    return transpose(mat4x4f(
      B4[(n * p.K + k) / 4u],
      B4[(min(n + 1u, last) * p.K + k) / 4u],
      B4[(min(n + 2u, last) * p.K + k) / 4u],
      B4[(min(n + 3u, last) * p.K + k) / 4u],
    ));
  }
  let row = p.N / 4u;
  let i = (k * p.N + n) / 4u;
  return mat4x4f(B4[i], B4[i + row], B4[i + 2u * row], B4[i + 3u * row]);
}

fn storeC(m: u32, n: u32, v: f32) {
  var r = v;
  if (p.hasBias != 0u) {
    r += bias[n];
  }
  if (p.relu != 0u) {
    r = max(r, 0.0);
  }
  if (p.hasAffine != 0u) {
    r = fma(r, scale[n], shift[n]);
  }
  C[m * p.N + n] = r;
}
