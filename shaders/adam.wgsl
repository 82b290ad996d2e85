// adam.wgsl: one in-place Adam / AdamW step, with the bias correction folded into the step size.
//
//   g     = grad + l2 · param                         (l2 = weightDecay for Adam, 0 for AdamW)
//   m     = beta1 · m + (1 − beta1) · g
//   v     = beta2 · v + (1 − beta2) · g²
//   param = shrink · param − step_size · m / (√v + eps)
//
// The CPU computes, per step t, step_size = lr · √(1 − beta2^t) / (1 − beta1^t) (Kingma & Ba's
// "more efficient" ordering, as in Keras) and shrink = 1 − lr · weightDecay for AdamW (1 for Adam),
// so the kernel holds no powers. Both change every step: the uniform is a transient buffer.
//
// Elementwise: one invocation per element, 256 per workgroup, on a 2-D grid past 65535 workgroups
// (the flat index is rebuilt from both grid dimensions). param, m and v are read and written in
// place by the same invocation; no workgroup memory; 4 loads, 3 stores and one sqrt per element.

struct Params {
  count: u32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  step_size: f32,
  l2: f32,
  shrink: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) {
    return;
  }
  let w = param[i];
  let g = grad[i] + p.l2 * w;
  let m = p.beta1 * m1[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * m2[i] + (1.0 - p.beta2) * g * g;
  m1[i] = m;
  m2[i] = v;
  param[i] = p.shrink * w - p.step_size * m / (sqrt(v) + p.eps);
}
