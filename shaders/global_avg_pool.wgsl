// global_avg_pool.wgsl: global average pooling over each channel's plane, NCHW, and its gradient.
//
//   forward:  y[n,c]       = (1/(H·W)) · Σ_{h,w} x[n,c,h,w]          x [N,C,H,W] → y [N,C]
//   backward: dx[n,c,h,w]  = dy[n,c] / (H·W)                         every pixel shares equally
//
// It replaces Flatten → Dense at the top of a network: the classifier sees one number per
// channel whatever the image size, and the layer has no weights of its own.
//
// forward: one invocation per (n, c) plane, 256 per workgroup on the 2-D grid. It adds the
//   plane's H·W values in row-major order (the CPU reference's order) and multiplies once by
//   1/(H·W), passed in as f32 so both sides use the same rounded constant. H·W loads per output;
//   the planes here are small (at most 48×48 = 2,304 values, 5×5 = 25 where the networks use
//   it), so a loop beats a workgroup reduction with its barriers, which cost more than the adds
//   on a software GPU. Consecutive invocations read planes H·W apart: no coalescing, but the
//   whole op is a fraction of a percent of a network's work.
// backward: one invocation per INPUT element: one load of dy, one multiply, one store. No
//   workgroup memory in either.

struct Params {
  planes: u32,     // N·C
  plane_size: u32, // H·W
  inv_size: f32,   // 1/(H·W), rounded to f32 once on the CPU
}

@group(0) @binding(0) var<uniform> p: Params;

// forward bindings
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let plane = gid.x + gid.y * nwg.x * 256u;
  if (plane >= p.planes) {
    return;
  }
  let start = plane * p.plane_size;
  var sum = 0.0;
  for (var i = 0u; i < p.plane_size; i++) {
    sum += x[start + i];
  }
  y[plane] = sum * p.inv_size;
}

// backward bindings: the output gradient [N·C] and the input gradient [N·C·H·W]
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.planes * p.plane_size) {
    return;
  }
  dx[i] = dy[i / p.plane_size] * p.inv_size;
}
