// gemm_vec4.wgsl: the register-tiled product C = A·B (A is M×K, B is K×N) for operands that lie
// contiguously in memory in runs of four, read as vec4. An op appends it (instead of gemm.wgsl)
// when K is a multiple of 4 and supplies:
//
//   fn gemmDims() -> vec3u               // (M, N, K)
//   fn loadA4(m: u32, k: u32) -> vec4f   // A[m][k..k+3]; called with m < M and k a multiple of 4
//   fn loadB4(k: u32, n: u32) -> mat4x4f // the 4×4 block B[k..k+3][n..n+3], column i = row k+i of B;
//                                        // n a multiple of 4, n < N (columns past N: any finite value)
//   fn storeC(m: u32, n: u32, v: f32)    // called once per output, m < M, n < N
//
// Invocation (x, y) owns the 4×4 block of C at rows 4y.., columns 4x.., held in four vec4 rows,
// and walks K four at a time: per step it loads four vec4 of A and one 4×4 block of B (four
// vec4 loads when B's rows are contiguous) and does 64 multiply-adds as four matrix-vector
// products, row_i += Bblock · A_i. No workgroup memory, no barriers, no loops but the one over
// k: on SwiftShader, which runs invocations in SIMD lanes and does not unroll loops, this is
// about ten times faster than the looped scalar kernel (bench/README.md). Rows past the edge of C
// read the last real row and are never stored. Work per output: K multiply-adds.

fn storeRow4(m: u32, n0: u32, nCount: u32, v: vec4f) {
  storeC(m, n0, v.x);
  if (nCount > 1u) { storeC(m, n0 + 1u, v.y); }
  if (nCount > 2u) { storeC(m, n0 + 2u, v.z); }
  if (nCount > 3u) { storeC(m, n0 + 3u, v.w); }
}

@compute @workgroup_size(WG_N, WG_M)
fn gemm_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let dims = gemmDims();
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= dims.x || n0 >= dims.y) {
    return;
  }
  let mLast = dims.x - 1u;
  let m1 = min(m0 + 1u, mLast);
  let m2 = min(m0 + 2u, mLast);
  let m3 = min(m0 + 3u, mLast);
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  for (var k = 0u; k < dims.z; k += 4u) {
    let b = loadB4(k, n0);
    c0 += b * loadA4(m0, k);
    c1 += b * loadA4(m1, k);
    c2 += b * loadA4(m2, k);
    c3 += b * loadA4(m3, k);
  }
  let nCount = min(4u, dims.y - n0);
  let mCount = min(4u, dims.x - m0);
  storeRow4(m0, n0, nCount, c0);
  if (mCount > 1u) { storeRow4(m1, n0, nCount, c1); }
  if (mCount > 2u) { storeRow4(m2, n0, nCount, c2); }
  if (mCount > 3u) { storeRow4(m3, n0, nCount, c3); }
}
