// softmax_cross_entropy.wgsl: row softmax, and the class-weighted cross-entropy loss with its
// gradient, for logits [N,K] and labels [N] (class indices stored as f32).
//
//   lse_i    = m_i + log Σ_c exp(z_ic − m_i)       m_i = max_c z_ic (so no exp overflows)
//   W        = Σ_j w[y_j]                           (w ≡ 1 without class weights: the mean)
//   q_ic     = (1 − ε)·[c = y_i] + ε/K            label smoothing ε (0: the one-hot label)
//   loss     = Σ_i w[y_i] · (lse_i − Σ_c q_ic·z_ic) / W
//   dz_ic    = w[y_i] · (exp(z_ic − lse_i) − q_ic) / W
//
// Entry points, one invocation each per row, 64 rows per workgroup (rows on a 2-D grid past
// 65535 workgroups), no workgroup memory:
//   softmax: probabilities of one row; 2K reads, K exps, K writes.
//   rows:    one row's gradient and its share w[y_i]·nll_i / W of the loss. Every invocation
//            recomputes W with a loop over the N labels: N is at most a few hundred, and that is
//            cheaper than a third launch (or a barrier-heavy reduction on a software GPU).
//   total:   a single invocation adds the N shares in index order into loss[0]; a loop of a few
//            hundred adds needs no workgroup memory and no barriers.
//
// A label that is not an integer in [0, K) cannot be reported from a kernel. Callers validate
// labels (the CPU backend throws; the data loader checks them); here such a label gets the weight
// NaN, so the loss and the whole gradient come out NaN instead of reading out of bounds.

struct Params {
  n: u32,
  k: u32,
  weighted: u32,    // 1: class weights are bound; 0: every class weighs 1
  nan_bits: u32,    // 0x7fc00000: a NaN constant is a shader-creation error, so it comes in as bits
  smoothing: f32,   // ε; with 0 every value is bit for bit what it was without smoothing
}

@group(0) @binding(0) var<uniform> p: Params;

// softmax bindings
@group(0) @binding(1) var<storage, read> z_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;

// rows bindings
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read> class_weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> shares: array<f32>;

// total bindings
@group(0) @binding(1) var<storage, read> shares_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;

fn is_class(y: f32) -> bool {
  return y >= 0.0 && y < f32(p.k) && floor(y) == y;   // false for NaN too
}

// A class index that is always in bounds; only used where is_class(y) holds or the weight is NaN.
fn class_index(y: f32) -> u32 {
  return min(u32(max(y, 0.0)), p.k - 1u);
}

fn weight_of(y: f32) -> f32 {
  if (!is_class(y)) {
    return bitcast<f32>(p.nan_bits);
  }
  if (p.weighted == 1u) {
    return class_weights[class_index(y)];
  }
  return 1.0;
}

@compute @workgroup_size(64)
fn softmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) {
    return;
  }
  let base = i * p.k;
  var m = z_in[base];
  for (var c = 1u; c < p.k; c++) {
    m = max(m, z_in[base + c]);
  }
  var s = 0.0;
  for (var c = 0u; c < p.k; c++) {
    s += exp(z_in[base + c] - m);
  }
  for (var c = 0u; c < p.k; c++) {
    probs[base + c] = exp(z_in[base + c] - m) / s;
  }
}

@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) {
    return;
  }
  var wsum = 0.0;
  for (var j = 0u; j < p.n; j++) {
    wsum += weight_of(labels[j]);
  }
  let base = i * p.k;
  var m = z[base];
  for (var c = 1u; c < p.k; c++) {
    m = max(m, z[base + c]);
  }
  var s = 0.0;
  var zsum = 0.0;
  for (var c = 0u; c < p.k; c++) {
    s += exp(z[base + c] - m);
    zsum += z[base + c];
  }
  let lse = m + log(s);
  let y = labels[i];
  let cls = class_index(y);
  let g = weight_of(y) / wsum;
  let on = 1.0 - p.smoothing;
  let off = p.smoothing / f32(p.k);
  shares[i] = g * (lse - on * z[base + cls] - off * zsum);
  for (var c = 0u; c < p.k; c++) {
    dz[base + c] = g * (exp(z[base + c] - lse) - (select(0.0, 1.0, c == cls) * on + off));
  }
}

@compute @workgroup_size(1)
fn total() {
  var s = 0.0;
  for (var i = 0u; i < p.n; i++) {
    s += shares_in[i];
  }
  loss[0] = s;
}
