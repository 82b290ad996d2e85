// relu.wgsl: the rectified linear unit and its gradient.
//
//   forward:  y = max(x, 0)
//   backward: dx = dy where y > 0, else 0   (y > 0 exactly where x > 0, so y serves as the mask)
//
// Elementwise: one invocation per element, 256 per workgroup, launched on a 2-D grid when there
// are more than 65535 workgroups (the flat index is rebuilt from both grid dimensions).
// No workgroup memory; one or two loads and one store per output.

struct Params {
  count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// forward bindings
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.count) {
    y[i] = max(x[i], 0.0);
  }
}

// backward bindings: the forward output, its gradient, and the input gradient
@group(0) @binding(1) var<storage, read> y_in: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.count) {
    dx[i] = select(0.0, dy[i], y_in[i] > 0.0);
  }
}
