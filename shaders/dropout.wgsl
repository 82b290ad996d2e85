// dropout.wgsl: inverted dropout, forward and backward in one entry point.
//
//   keep(i) = pcg(i + pcg(seed)) >= threshold          threshold = floor(rate · 2³²)
//   y[i]    = keep(i) ? x[i] · scale : 0               scale = 1 / (1 − rate), rounded to f32 on the CPU
//
// The mask is a pure function of (seed, element index): a counter-based hash (the PCG output
// permutation, Jarzynski & Olano 2020) that src/ops/dropout.ts repeats bit for bit with Math.imul
// and >>> 0. So the CPU and the GPU drop the same elements, and backward regenerates the mask
// instead of storing it. Backward is the same linear map applied to dy (dx = mask · scale · dy),
// which is why there is one entry point for both directions.
//
// Elementwise: one invocation per element, 256 per workgroup, on a 2-D grid past 65535 workgroups
// (the flat index is rebuilt from both grid dimensions). No workgroup memory; two hashes, one load
// and one store per output.

struct Params {
  count: u32,
  seed: u32,
  threshold: u32,   // drop when the hash is below this
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// u32 arithmetic wraps modulo 2³², like Math.imul and >>> 0 in the TypeScript twin.
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < p.count) {
    let keep = pcg(i + pcg(p.seed)) >= p.threshold;
    y[i] = select(0.0, x[i] * p.scale, keep);
  }
}
