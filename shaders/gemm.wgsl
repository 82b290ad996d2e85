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
// Two shapes of the same loop, chosen per adapter:
//
// gemm_registers: each invocation owns a TM×TN block of C and walks all of K, keeping the block
//   in registers: per step of k it loads TM values of A and TN of B and does TM·TN multiply-adds.
//   No workgroup memory, no barriers. Best on software GPUs (SwiftShader), where a barrier costs
//   more than the loads it saves.
//
// gemm_shared: a workgroup of WG_M×WG_N invocations owns a (WG_M·TM)×(WG_N·TN) block of C. For
//   each slice of BK values of k, the workgroup copies the A and B tiles it needs into workgroup
//   memory (neighbouring invocations read neighbouring addresses), waits at a barrier, and every
//   invocation then reads its TM+TN operands per k from that fast memory. Global reads drop by a
//   factor of about WG_N (for A) and WG_M (for B). Invocation (ty, tx) owns rows ty + i·WG_M and
//   columns tx + j·WG_N, so neighbouring invocations store neighbouring columns. Best on real GPUs.
//
// Work per output: K multiply-adds (2K FLOPs) in both shapes.

const BM = WG_M * TM;
const BN = WG_N * TN;

@compute @workgroup_size(WG_N, WG_M)
fn gemm_registers(@builtin(global_invocation_id) gid: vec3u) {
  let dims = gemmDims();
  let m0 = gid.y * TM;
  let n0 = gid.x * TN;
  if (m0 >= dims.x || n0 >= dims.y) {
    return;
  }
  let mCount = min(TM, dims.x - m0);
  let nCount = min(TN, dims.y - n0);
  var acc: array<array<f32, TN>, TM>;
  var a: array<f32, TM>;
  var b: array<f32, TN>;
  for (var k = 0u; k < dims.z; k++) {
    for (var i = 0u; i < TM; i++) {
      a[i] = 0.0;
      if (i < mCount) { a[i] = loadA(m0 + i, k); }
    }
    for (var j = 0u; j < TN; j++) {
      b[j] = 0.0;
      if (j < nCount) { b[j] = loadB(k, n0 + j); }
    }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) {
        acc[i][j] = fma(a[i], b[j], acc[i][j]);
      }
    }
  }
  for (var i = 0u; i < mCount; i++) {
    for (var j = 0u; j < nCount; j++) {
      storeC(m0 + i, n0 + j, acc[i][j]);
    }
  }
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
