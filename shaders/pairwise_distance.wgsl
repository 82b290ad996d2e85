// pairwise_distance.wgsl: every distance between the rows of A (M×K) and the rows of B (N×K),
//
//   D[i][j] = Σ_k |A[i][k] − B[j][k]|        (METRIC_L1)
//   D[i][j] = Σ_k (A[i][k] − B[j][k])²       (otherwise: the squared Euclidean distance)
//
// It is a matrix product with (a − b)² or |a − b| in place of a·b, so it is tiled like
// gemm.wgsl's register kernels: invocation (x, y) owns the 4×4 block of D at rows 4y.. of A and
// rows 4x.. of B, held in four named vec4 (no private arrays: SwiftShader keeps a dynamically
// indexed array in memory), and walks all of K. Per step of k it loads four values of A and four
// of B, and does 16 differences and 16 multiply-adds (or absolute values and adds) as four vec4
// operations. Rows past the edge of A or B read the last real row and are never stored, so the
// loop has no branches. No workgroup memory, no barriers (on software GPUs a barrier costs more
// than the loads it would save). Work per output: K differences, K products or absolute values,
// K adds. METRIC_L1 is a `const` the dispatcher puts in front.

struct Params {
  M: u32,
  N: u32,
  K: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> d: array<f32>;

fn term(x: f32, y: vec4f) -> vec4f {
  let diff = vec4f(x) - y;
  if (METRIC_L1) {
    return abs(diff);
  }
  return diff * diff;
}

fn storeRow(i: u32, j0: u32, count: u32, v: vec4f) {
  let o = i * p.N + j0;
  d[o] = v.x;
  if (count > 1u) { d[o + 1u] = v.y; }
  if (count > 2u) { d[o + 2u] = v.z; }
  if (count > 3u) { d[o + 3u] = v.w; }
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.y * 4u;
  let j0 = gid.x * 4u;
  if (i0 >= p.M || j0 >= p.N) {
    return;
  }
  let iLast = p.M - 1u;
  let jLast = p.N - 1u;
  // Row offsets into A and B; rows past the edge repeat the last one.
  let a0 = i0 * p.K;
  let a1 = min(i0 + 1u, iLast) * p.K;
  let a2 = min(i0 + 2u, iLast) * p.K;
  let a3 = min(i0 + 3u, iLast) * p.K;
  let b0 = j0 * p.K;
  let b1 = min(j0 + 1u, jLast) * p.K;
  let b2 = min(j0 + 2u, jLast) * p.K;
  let b3 = min(j0 + 3u, jLast) * p.K;
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  for (var k = 0u; k < p.K; k++) {
    let y = vec4f(b[b0 + k], b[b1 + k], b[b2 + k], b[b3 + k]);
    c0 += term(a[a0 + k], y);
    c1 += term(a[a1 + k], y);
    c2 += term(a[a2 + k], y);
    c3 += term(a[a3 + k], y);
  }
  let count = min(4u, p.N - j0);
  let rows = min(4u, p.M - i0);
  storeRow(i0, j0, count, c0);
  if (rows > 1u) { storeRow(i0 + 1u, j0, count, c1); }
  if (rows > 2u) { storeRow(i0 + 2u, j0, count, c2); }
  if (rows > 3u) { storeRow(i0 + 3u, j0, count, c3); }
}
