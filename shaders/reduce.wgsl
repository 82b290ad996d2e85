// reduce.wgsl: sums over all axes but the channel axis, and the index of each row's maximum.
//
// sum_channels: x viewed as [N, C, S] (S = H·W, or 1 for [N,C]; sumAll is the case N = C = 1),
//   out[c] = Σ_n Σ_s x[n, c, s].
//   One workgroup of 256 invocations per channel. Invocation t adds the elements t, t+256, ...
//   of the channel's N·S values in a private float, writes that partial sum to workgroup memory,
//   and after one barrier invocation 0 adds the 256 partials in order. One barrier instead of a
//   log₂ 256 = 8 step tree: the 256-step loop costs little, and barriers are what software GPUs
//   pay for. Work per output: N·S loads; each private sum holds about N·S/256 terms, which keeps
//   float32 rounding error far below that of one long running sum.
//
// argmax_rows: x [N, K] → out[i] = the first c with x[i, c] = max_c x[i, c], as f32.
//   One invocation per row, 64 per workgroup (rows on a 2-D grid past 65535 workgroups), a loop
//   over K with a strict > so the first maximum wins; no workgroup memory.

struct Params {
  n: u32,
  c: u32,   // channels for sum_channels; K (row length) for argmax_rows
  s: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG = 256u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(256)
fn sum_channels(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let ch = wid.x + wid.y * nwg.x;   // uniform across the workgroup, so every invocation reaches the barrier
  let count = p.n * p.s;
  var sum = 0.0;
  if (ch < p.c) {
    for (var j = t; j < count; j += WG) {
      let n = j / p.s;
      let k = j - n * p.s;
      sum += x[(n * p.c + ch) * p.s + k];
    }
  }
  partial[t] = sum;
  workgroupBarrier();
  if (t == 0u && ch < p.c) {
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      total += partial[i];
    }
    out[ch] = total;
  }
}

@compute @workgroup_size(64)
fn argmax_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) {
    return;
  }
  let base = i * p.c;
  var best = 0u;
  var top = x[base];
  for (var k = 1u; k < p.c; k++) {
    let v = x[base + k];
    if (v > top) {
      top = v;
      best = k;
    }
  }
  out[i] = f32(best);
}
