// sgd.wgsl: one in-place step of stochastic gradient descent, PyTorch's formulation.
//
//   g = grad + weight_decay · param                      (L2 decay, added to the gradient)
//   mode 0, no momentum:  param −= lr · g
//   mode 1, momentum:     v = momentum · v + g;  param −= lr · v
//   mode 2, Nesterov:     v = momentum · v + g;  param −= lr · (g + momentum · v)
//
// Elementwise: one invocation per element, 256 per workgroup, on a 2-D grid past 65535 workgroups
// (the flat index is rebuilt from both grid dimensions). param and velocity are read and written
// in place by the same invocation; no workgroup memory; 2–3 loads and 1–2 stores per element.
// The uniform changes whenever lr does (schedules), so it is bound as a transient buffer.

struct Params {
  count: u32,
  mode: u32,
  lr: f32,
  momentum: f32,
  weight_decay: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> velocity: array<f32>;   // a placeholder in mode 0

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) {
    return;
  }
  let w = param[i];
  let g = grad[i] + p.weight_decay * w;
  if (p.mode == 0u) {
    param[i] = w - p.lr * g;
    return;
  }
  let v = p.momentum * velocity[i] + g;
  velocity[i] = v;
  let d = select(v, g + p.momentum * v, p.mode == 2u);
  param[i] = w - p.lr * d;
}
