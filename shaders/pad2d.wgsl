// pad2d.wgsl: a copy of a batch of images with a border of zeros, so that a convolution can read
// every tap of every output without testing it against the image's edges (conv2d_direct.wgsl and
// conv2d_filter_direct.wgsl read such a copy).
//
//   out[i, h, w] = x[i, h − top, w − left] where 0 ≤ h − top < H and 0 ≤ w − left < W, else 0
//
// for each image plane i = n·C + c; out is [planes, Hp, Wp] with Hp ≥ top + H, Wp ≥ left + W
// (the border below and to the right is whatever is left). One invocation per output element,
// 256 per workgroup, on a 2-D grid when there are more than 65535 workgroups; every element is
// written. Three integer divisions per element: this pass moves (Hp·Wp + H·W)·4 bytes per plane
// against the R·S·K multiply-adds per pixel of the convolution that reads it.

struct Params {
  count: u32, H: u32, W: u32, Hp: u32,
  Wp: u32, top: u32, left: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn pad2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) {
    return;
  }
  let w = i % p.Wp;
  let h = (i / p.Wp) % p.Hp;
  let plane = i / (p.Wp * p.Hp);
  // Unsigned: a position above or left of the image wraps to a large number and fails the test.
  let sh = h - p.top;
  let sw = w - p.left;
  let inside = sh < p.H && sw < p.W;
  out[i] = select(0.0, x[select(0u, (plane * p.H + sh) * p.W + sw, inside)], inside);
}
