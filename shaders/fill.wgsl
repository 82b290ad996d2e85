// fill.wgsl: writes one value into every element of a buffer.
//
// Its one use: with debug.poison set (as in the tests), every fresh output buffer is filled with
// NaN first, so an element a kernel forgot to write shows up. Constant tensors are uploaded, not
// filled.
// One invocation per element, 256 per workgroup; no workgroup memory; one store per output.

struct Params {
  count: u32,
  bits: u32,   // the value's float32 bit pattern, so NaN survives the trip through a uniform
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.count) {
    out[i] = p.bits;
  }
}
