// batchnorm.wgsl: batch normalization, training statistics, the normalisation itself and the
// gradient. x is viewed as [N, C, S] (S = H·W after a conv, 1 after a dense layer); channel c's
// M = N·S values are normalised together.
//
// stats (training forward): one workgroup of WG invocations per channel (WG is set by the
//   dispatcher, 32 to 256). Invocation t runs Welford's update over the channel's values
//   t, t + WG, ... (count k, mean, M2 = Σ(x − mean)²), so the variance never comes from
//   E[x²] − E[x]², which cancels catastrophically in float32 when |mean| ≫ σ. The WG partial
//   (k, mean, M2) triples go through workgroup memory and, after ONE barrier, invocation 0 merges
//   them in order with Chan's pairwise formula:
//     d = mean_b − mean_a,  mean = mean_a + d·k_b/k,  M2 = M2_a + M2_b + d²·k_a·k_b/k.
//   A tree reduction would need log₂ WG barriers, and barriers are what software GPUs pay for.
//   Invocation 0 then writes mean and invStd = 1/sqrt(M2/M + eps) (the biased variance) and
//   updates the running statistics in place with the unbiased variance M2/(M − 1).
//   Work per channel: M loads; each invocation's Welford chain is M/WG values long. Splitting M
//   into WG chains and merging keeps float32 error near u·√(M/WG + WG) of |mean| + σ (under 1e-6
//   measured at M = 1.4e5), against u·√M or worse for one long running sum.
//
// apply (forward, training and inference): one invocation per element, 256 per workgroup on the
//   2-D grid: y = (x − mean[c])·inv[c]·gamma[c] + beta[c], where inv is the given invStd
//   (training) or 1/sqrt(var[c] + eps) from the running variance (inference). Five loads, one store.
//
// backward_reduce: one workgroup per channel again; each invocation sums dy and dy·(x − mean)
//   over its strided values, one barrier, invocation 0 adds the WG partials in order and writes
//   dbeta = Σ dy and dgamma = invStd·Σ dy·(x − mean) = Σ dy·x̂.
//
// backward_dx: one invocation per element: dx = gamma·invStd·(dy − (dbeta + x̂·dgamma)/M), the
//   same as gamma·invStd/M·(M·dy − dbeta − x̂·dgamma), which holds the gradient through the
//   batch mean and variance. Eight loads, one store.
//
// stats4 and backward_reduce4: the two reductions reading whole vec4s of the channel, for S a
//   multiple of 4. stats4 keeps four Welford chains in the lanes of a vec4 (one count, so one
//   division 1/k per four values instead of four), merges its lanes with Chan's formula (equal
//   counts), then the workgroup merges as in stats; backward_reduce4 sums in four lanes and adds
//   them before the workgroup's sum. One channel index per four values in both.
// apply4 and backward_dx4: the same two, four neighbouring elements per invocation as one vec4,
//   for S a multiple of 4 (each channel's S values then hold whole vec4s, so the four share one
//   channel). Per element the scalar versions spend more on the invocation than on the data: the
//   grid index, a bounds test, a division and a remainder for the channel, and four or six
//   per-channel loads, around one 4-byte load and store. Here that is paid once per 16 bytes,
//   the width the copy peak moves (bench/peak.ts), and the arithmetic runs as vec4.

struct Params {
  n: u32,
  c: u32,
  s: u32,
  eps: f32,
  momentum: f32,
  from_var: u32,   // apply: 1 when `inv_in` holds a variance (inference), 0 when it holds invStd
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;

// Flat index in x of value j (0 ≤ j < M) of channel ch.
fn channel_index(ch: u32, j: u32) -> u32 {
  let n = j / p.s;
  return (n * p.c + ch) * p.s + (j - n * p.s);
}

// ---- stats ----

@group(0) @binding(2) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> inv_std_out: array<f32>;

var<workgroup> part_k: array<f32, WG>;
var<workgroup> part_mean: array<f32, WG>;
var<workgroup> part_m2: array<f32, WG>;

@compute @workgroup_size(WG)
fn stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let ch = wid.x + wid.y * nwg.x;   // uniform across the workgroup, so the return keeps the barrier uniform
  if (ch >= p.c) {
    return;
  }
  let count = p.n * p.s;
  var k = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var j = t; j < count; j += WG) {
    let v = x[channel_index(ch, j)];
    k += 1.0;
    let d = v - mean;
    mean += d / k;
    m2 += d * (v - mean);
  }
  part_k[t] = k;
  part_mean[t] = mean;
  part_m2[t] = m2;
  workgroupBarrier();
  if (t == 0u) {
    finish_stats(ch);
  }
}

// Invocation 0, after the barrier: merges the WG partial (k, mean, M2) triples in order and writes
// the channel's mean, invStd and running statistics.
fn finish_stats(ch: u32) {
  var ka = part_k[0];
  var ma = part_mean[0];
  var m2a = part_m2[0];
  // invocation i holds ⌈(M − i)/WG⌉ values: once one holds none, so do all after it
  for (var i = 1u; i < WG && part_k[i] > 0.0; i++) {
    let kb = part_k[i];
    let kab = ka + kb;
    let d = part_mean[i] - ma;
    ma += d * (kb / kab);
    m2a += part_m2[i] + d * d * (ka * kb / kab);
    ka = kab;
  }
  mean_out[ch] = ma;
  inv_std_out[ch] = 1.0 / sqrt(m2a / ka + p.eps);
  running_mean[ch] = p.momentum * running_mean[ch] + (1.0 - p.momentum) * ma;
  running_var[ch] = p.momentum * running_var[ch] + (1.0 - p.momentum) * (m2a / (ka - 1.0));
}

// ---- apply ----

@group(0) @binding(2) var<storage, read> mean_in: array<f32>;
@group(0) @binding(3) var<storage, read> inv_in: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n * p.c * p.s) {
    return;
  }
  let ch = (i / p.s) % p.c;
  var inv = inv_in[ch];
  if (p.from_var != 0u) {
    inv = 1.0 / sqrt(inv + p.eps);
  }
  y[i] = (x[i] - mean_in[ch]) * inv * gamma[ch] + beta[ch];
}

// ---- backward_reduce ----

@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> mean_b: array<f32>;
@group(0) @binding(4) var<storage, read> inv_std_b: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta_out: array<f32>;

var<workgroup> part_dy: array<f32, WG>;
var<workgroup> part_dyx: array<f32, WG>;

@compute @workgroup_size(WG)
fn backward_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let ch = wid.x + wid.y * nwg.x;
  if (ch >= p.c) {
    return;
  }
  let count = p.n * p.s;
  let m = mean_b[ch];
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var j = t; j < count; j += WG) {
    let i = channel_index(ch, j);
    sdy += dy[i];
    sdyx += dy[i] * (x[i] - m);
  }
  part_dy[t] = sdy;
  part_dyx[t] = sdyx;
  workgroupBarrier();
  if (t == 0u) {
    finish_backward(ch);
  }
}

// Invocation 0, after the barrier: adds the WG partial sums in order and writes dbeta and dgamma.
fn finish_backward(ch: u32) {
  var total_dy = 0.0;
  var total_dyx = 0.0;
  for (var i = 0u; i < WG; i++) {
    total_dy += part_dy[i];
    total_dyx += part_dyx[i];
  }
  dbeta_out[ch] = total_dy;
  dgamma_out[ch] = total_dyx * inv_std_b[ch];
}

// ---- backward_dx ----

@group(0) @binding(3) var<storage, read> gamma_d: array<f32>;
@group(0) @binding(4) var<storage, read> mean_d: array<f32>;
@group(0) @binding(5) var<storage, read> inv_std_d: array<f32>;
@group(0) @binding(6) var<storage, read> dgamma_d: array<f32>;
@group(0) @binding(7) var<storage, read> dbeta_d: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn backward_dx(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let count = p.n * p.s;
  if (i >= count * p.c) {
    return;
  }
  let ch = (i / p.s) % p.c;
  let inv = inv_std_d[ch];
  let xhat = (x[i] - mean_d[ch]) * inv;
  dx[i] = gamma_d[ch] * inv * (dy[i] - (dbeta_d[ch] + xhat * dgamma_d[ch]) / f32(count));
}

// ---- apply4 and backward_dx4 (S a multiple of 4) ----

@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> y4: array<vec4f>;

// This invocation's vec4 q and its channel, or p.c for the channel when q is past the end.
fn channel_of_vec4(gid: vec3u, nwg: vec3u) -> vec2u {
  let q = gid.x + gid.y * nwg.x * 256u;
  let s4 = p.s / 4u;
  if (q >= p.n * p.c * s4) {
    return vec2u(q, p.c);
  }
  return vec2u(q, (q / s4) % p.c);
}

@compute @workgroup_size(256)
fn apply4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let qc = channel_of_vec4(gid, nwg);
  let q = qc.x;
  let ch = qc.y;
  if (ch == p.c) {
    return;
  }
  var inv = inv_in[ch];
  if (p.from_var != 0u) {
    inv = 1.0 / sqrt(inv + p.eps);
  }
  y4[q] = (x4[q] - mean_in[ch]) * inv * gamma[ch] + beta[ch];
}

@group(0) @binding(2) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dx4: array<vec4f>;

@compute @workgroup_size(256)
fn backward_dx4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let qc = channel_of_vec4(gid, nwg);
  let q = qc.x;
  let ch = qc.y;
  if (ch == p.c) {
    return;
  }
  let inv = inv_std_d[ch];
  let xhat = (x4[q] - mean_d[ch]) * inv;
  dx4[q] = gamma_d[ch] * inv * (dy4[q] - (dbeta_d[ch] + xhat * dgamma_d[ch]) / f32(p.n * p.s));
}

// ---- stats4 and backward_reduce4 (S a multiple of 4) ----

// Flat index in x4 (vec4 units) of vec4 j (0 ≤ j < M/4) of channel ch.
fn channel_index4(ch: u32, j: u32) -> u32 {
  let s4 = p.s / 4u;
  let n = j / s4;
  return (n * p.c + ch) * s4 + (j - n * s4);
}

@compute @workgroup_size(WG)
fn stats4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let ch = wid.x + wid.y * nwg.x;
  if (ch >= p.c) {
    return;
  }
  let count4 = p.n * p.s / 4u;
  var k = 0.0;
  var mean = vec4f(0.0);
  var m2 = vec4f(0.0);
  for (var j = t; j < count4; j += WG) {
    let v = x4[channel_index4(ch, j)];
    k += 1.0;
    let d = v - mean;
    mean += d * (1.0 / k);
    m2 += d * (v - mean);
  }
  // The four lanes hold k values each: merge x with y and z with w, then the two pairs.
  let dxy = mean.y - mean.x;
  let dzw = mean.w - mean.z;
  let mxy = mean.x + 0.5 * dxy;
  let mzw = mean.z + 0.5 * dzw;
  let d = mzw - mxy;
  part_k[t] = 4.0 * k;
  part_mean[t] = mxy + 0.5 * d;
  part_m2[t] = (m2.x + m2.y + dxy * dxy * (0.5 * k)) + (m2.z + m2.w + dzw * dzw * (0.5 * k)) + d * d * k;
  workgroupBarrier();
  if (t == 0u) {
    finish_stats(ch);
  }
}

@compute @workgroup_size(WG)
fn backward_reduce4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let ch = wid.x + wid.y * nwg.x;
  if (ch >= p.c) {
    return;
  }
  let count4 = p.n * p.s / 4u;
  let m = mean_b[ch];
  var sdy = vec4f(0.0);
  var sdyx = vec4f(0.0);
  for (var j = t; j < count4; j += WG) {
    let i = channel_index4(ch, j);
    let g = dy4[i];
    sdy += g;
    sdyx += g * (x4[i] - m);
  }
  part_dy[t] = (sdy.x + sdy.y) + (sdy.z + sdy.w);
  part_dyx[t] = (sdyx.x + sdyx.y) + (sdyx.z + sdyx.w);
  workgroupBarrier();
  if (t == 0u) {
    finish_backward(ch);
  }
}
