// peak.wgsl: what this adapter can do at best, for the benchmark's "fraction of peak" columns.
// Benchmark-only: no op uses these kernels.
//
//   fma:  each invocation holds 8 independent vec4 accumulators and applies a = fma(a, m, c) to
//         each of them p.iterations times, then writes their sum (so the work cannot be dropped).
//         8 chains × 4 lanes × 2 FLOPs = 64 FLOPs per step, no memory traffic in the loop: the
//         rate is bound by the multiply-add units alone. Independent chains hide the latency of
//         one fma behind the next; m and c come from the uniform so nothing folds at compile time.
//   copy: dst[i] = src[i] over arrays of vec4 (16-byte loads and stores), one vec4 per
//         invocation; 32 bytes move per invocation, nothing is computed: bound by memory.
//
// Both are elementwise launches of 64-invocation workgroups on a grid1d grid (the flat index is
// rebuilt as gid.x + gid.y * nwg.x * 64). No workgroup memory, no barriers.

struct Params {
  count: u32,
  iterations: u32,
  m: f32,
  c: f32,
}

@group(0) @binding(0) var<uniform> p: Params;

// fma bindings: one vec4 per invocation, written once at the end
@group(0) @binding(1) var<storage, read_write> sums: array<vec4f>;

@compute @workgroup_size(64)
fn fma_peak(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.count) {
    return;
  }
  // Distinct starting values per lane and chain, near 1 so the chains stay far from denormals.
  let s = 1.0 + f32(i & 255u) * 1e-4;
  let m = vec4f(p.m);
  let c = vec4f(p.c);
  var a0 = vec4f(s, s + 0.01, s + 0.02, s + 0.03);
  var a1 = a0 + 0.1;
  var a2 = a0 + 0.2;
  var a3 = a0 + 0.3;
  var a4 = a0 + 0.4;
  var a5 = a0 + 0.5;
  var a6 = a0 + 0.6;
  var a7 = a0 + 0.7;
  for (var k = 0u; k < p.iterations; k++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  sums[i] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

// copy bindings: source and destination, p.count vec4s each
@group(0) @binding(1) var<storage, read> src: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;

@compute @workgroup_size(64)
fn copy_peak(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i < p.count) {
    dst[i] = src[i];
  }
}
