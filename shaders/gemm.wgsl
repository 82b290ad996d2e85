// gemm.wgsl: the tiled matrix product C = A·B (A is M×K, B is K×N) that matmul and the three
// convolution passes share. The op in front of this file supplies how to read and write:
//
//   fn gemmDims() -> vec3u            // (M, N, K)
//   fn loadA(m: u32, k: u32) -> f32   // called only with m < M, k < K
//   fn loadB(k: u32, n: u32) -> f32   // called only with k < K, n < N
//   fn storeC(m: u32, n: u32, v: f32) // called once per output, m < M, n < N
//
// so "A" can be a weight matrix, a transposed operand or a gather of image patches (implicit
// GEMM: convolution without materialising im2col). Tile sizes are `const`s the dispatcher puts
// in front (TM, TN, WG_M, WG_N, BK), because private arrays need constant sizes.
//
// Three entry points, the same loop in different shapes, chosen per adapter and op:
//
// gemm_registers (4×4) and gemm_registers_8x2: each invocation owns a block of C (4 rows by 4
//   columns, or 8 by 2) and walks all of K, keeping the block in registers: per step of k it
//   loads one value of A per row and one of B per column and does 16 multiply-adds. No
//   workgroup memory, no barriers. Best on software GPUs (SwiftShader), where a barrier costs
//   more than the loads it saves. The block is four named vec4 and the code has no inner loops
//   or private arrays: SwiftShader does not unroll loops, and a dynamically indexed array lives
//   in memory, which made the looped version ten times slower. 8×2 loads B half as often as
//   4×4 (and A twice as often): the convolutions' loadB gathers image pixels with several
//   integer divisions per element and their loadA is cheaper, so there 8×2 is faster. Rows and
//   columns past the edge of C read the last real row or column (the contract allows only
//   m < M, n < N) and are never stored.
//
// gemm_shared: a workgroup of WG_M×WG_N invocations owns a (WG_M·TM)×(WG_N·TN) block of C. For
//   each slice of BK values of k, the workgroup copies the A and B tiles it needs into workgroup
//   memory (neighbouring invocations read neighbouring addresses), waits at a barrier, and every
//   invocation then reads its TM+TN operands per k from that fast memory. Global reads drop by a
//   factor of about WG_N (for A) and WG_M (for B). Invocation (ty, tx) owns rows ty + i·WG_M and
//   columns tx + j·WG_N, so neighbouring invocations store neighbouring columns. Best on real GPUs.
//
// Work per output: K multiply-adds (2K FLOPs) in every shape. (Where its operands lie in runs of
// four, matmul appends gemm_vec4.wgsl instead of this file: the same 4×4 register block read as
// vec4.)

const BM = WG_M * TM;
const BN = WG_N * TN;

fn storeRow(m: u32, n0: u32, nCount: u32, v: vec4f) {
  storeC(m, n0, v.x);
  if (nCount > 1u) { storeC(m, n0 + 1u, v.y); }
  if (nCount > 2u) { storeC(m, n0 + 2u, v.z); }
  if (nCount > 3u) { storeC(m, n0 + 3u, v.w); }
}

@compute @workgroup_size(WG_N, WG_M)
fn gemm_registers(@builtin(global_invocation_id) gid: vec3u) {
  let dims = gemmDims();
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= dims.x || n0 >= dims.y) {
    return;
  }
  let mLast = dims.x - 1u;
  let nLast = dims.y - 1u;
  let m1 = min(m0 + 1u, mLast);
  let m2 = min(m0 + 2u, mLast);
  let m3 = min(m0 + 3u, mLast);
  let n1 = min(n0 + 1u, nLast);
  let n2 = min(n0 + 2u, nLast);
  let n3 = min(n0 + 3u, nLast);
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  for (var k = 0u; k < dims.z; k++) {
    let b = vec4f(loadB(k, n0), loadB(k, n1), loadB(k, n2), loadB(k, n3));
    c0 = fma(vec4f(loadA(m0, k)), b, c0);
    c1 = fma(vec4f(loadA(m1, k)), b, c1);
    c2 = fma(vec4f(loadA(m2, k)), b, c2);
    c3 = fma(vec4f(loadA(m3, k)), b, c3);
  }
  let nCount = min(4u, dims.y - n0);
  let mCount = min(4u, dims.x - m0);
  storeRow(m0, n0, nCount, c0);
  if (mCount > 1u) { storeRow(m1, n0, nCount, c1); }
  if (mCount > 2u) { storeRow(m2, n0, nCount, c2); }
  if (mCount > 3u) { storeRow(m3, n0, nCount, c3); }
}

fn storePair(m: u32, n0: u32, nCount: u32, v: vec2f) {
  storeC(m, n0, v.x);
  if (nCount > 1u) { storeC(m, n0 + 1u, v.y); }
}

@compute @workgroup_size(WG_N, WG_M)
fn gemm_registers_8x2(@builtin(global_invocation_id) gid: vec3u) {
  let dims = gemmDims();
  let m0 = gid.y * 8u;
  let n0 = gid.x * 2u;
  if (m0 >= dims.x || n0 >= dims.y) {
    return;
  }
  let mLast = dims.x - 1u;
  let m1 = min(m0 + 1u, mLast);
  let m2 = min(m0 + 2u, mLast);
  let m3 = min(m0 + 3u, mLast);
  let m4 = min(m0 + 4u, mLast);
  let m5 = min(m0 + 5u, mLast);
  let m6 = min(m0 + 6u, mLast);
  let m7 = min(m0 + 7u, mLast);
  let n1 = min(n0 + 1u, dims.y - 1u);
  // Rows (m0, m1) in c01 as (m0n0, m0n1, m1n0, m1n1), and so on.
  var c01 = vec4f();
  var c23 = vec4f();
  var c45 = vec4f();
  var c67 = vec4f();
  for (var k = 0u; k < dims.z; k++) {
    let b2 = vec2f(loadB(k, n0), loadB(k, n1));
    let b = vec4f(b2, b2);
    c01 = fma(vec4f(vec2f(loadA(m0, k)), vec2f(loadA(m1, k))), b, c01);
    c23 = fma(vec4f(vec2f(loadA(m2, k)), vec2f(loadA(m3, k))), b, c23);
    c45 = fma(vec4f(vec2f(loadA(m4, k)), vec2f(loadA(m5, k))), b, c45);
    c67 = fma(vec4f(vec2f(loadA(m6, k)), vec2f(loadA(m7, k))), b, c67);
  }
  let nCount = min(2u, dims.y - n0);
  let mCount = min(8u, dims.x - m0);
  storePair(m0, n0, nCount, c01.xy);
  if (mCount > 1u) { storePair(m1, n0, nCount, c01.zw); }
  if (mCount > 2u) { storePair(m2, n0, nCount, c23.xy); }
  if (mCount > 3u) { storePair(m3, n0, nCount, c23.zw); }
  if (mCount > 4u) { storePair(m4, n0, nCount, c45.xy); }
  if (mCount > 5u) { storePair(m5, n0, nCount, c45.zw); }
  if (mCount > 6u) { storePair(m6, n0, nCount, c67.xy); }
  if (mCount > 7u) { storePair(m7, n0, nCount, c67.zw); }
}

var<workgroup> tileA: array<f32, BK * BM>;  // tileA[kk * BM + mm]
var<workgroup> tileB: array<f32, BK * BN>;  // tileB[kk * BN + nn]

@compute @workgroup_size(WG_N, WG_M)
fn gemm_shared(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let dims = gemmDims();
  let tid = lid.y * WG_N + lid.x;
  let mBase = wid.y * BM;
  let nBase = wid.x * BN;
  var acc: array<array<f32, TN>, TM>;
  var a: array<f32, TM>;
  var b: array<f32, TN>;
  for (var k0 = 0u; k0 < dims.z; k0 += BK) {
    // Cooperative loads; out-of-range elements become 0 so they add nothing.
    for (var e = tid; e < BM * BK; e += WG_M * WG_N) {
      let mm = e / BK;
      let kk = e % BK;
      var v = 0.0;
      if (mBase + mm < dims.x && k0 + kk < dims.z) { v = loadA(mBase + mm, k0 + kk); }
      tileA[kk * BM + mm] = v;
    }
    for (var e = tid; e < BK * BN; e += WG_M * WG_N) {
      let kk = e / BN;
      let nn = e % BN;
      var v = 0.0;
      if (k0 + kk < dims.z && nBase + nn < dims.y) { v = loadB(k0 + kk, nBase + nn); }
      tileB[kk * BN + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      for (var i = 0u; i < TM; i++) { a[i] = tileA[kk * BM + lid.y + i * WG_M]; }
      for (var j = 0u; j < TN; j++) { b[j] = tileB[kk * BN + lid.x + j * WG_N]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let m = mBase + lid.y + i * WG_M;
    for (var j = 0u; j < TN; j++) {
      let n = nBase + lid.x + j * WG_N;
      if (m < dims.x && n < dims.y) { storeC(m, n, acc[i][j]); }
    }
  }
}
