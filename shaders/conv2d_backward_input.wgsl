// conv2d_backward_input.wgsl: the gradient of a convolution with respect to its input, as an
// implicit GEMM.
//
// Input pixel (n,c,h,w) was seen by every output (n,k,oh,ow) with oh·stride + r − padTop = h and
// ow·stride + s − padLeft = w for some tap (r,s), through weight w[k,c,r,s]; so
//
//   dx[n,c,h,w] = Σ_{k,r,s} w[k,c,r,s] · dy[n, k, (h + padTop − r)/stride, (w + padLeft − s)/stride]
//
// where a term counts only if both divisions are exact and land inside dy. That is C = A·B with
//   A = the filters rearranged, C × (K·R·S): A[c][(k,r,s)] = w[k,c,r,s] (read in place, no transpose);
//   B = the gathered gradients, (K·R·S) × (N·H·W): B[(k,r,s)][(n,h,w)] = the dy term above, or 0;
//   C = dx, C × (N·H·W), written back in NCHW order.
// Neither A nor B is stored: loadA and loadB compute the index. This replaces col2im's
// scatter-add (which would need atomics on a GPU) by a gather: each dx element has one owner.
// With stride 2, three taps in four are not exact and add 0.
//
// The tiled loop is gemm.wgsl, appended by the dispatcher: it decides which invocation computes
// which outputs (a TM×TN block of dx each) and what goes through workgroup memory (tiles of A
// and B in the 'shared' variant, nothing in 'registers'). Work per output: K·R·S multiply-adds.
//
// Which of this GEMM form and conv2d_direct.wgsl (at stride 1) runs at a shape on an adapter is chosen by
// src/ops/conv2d-webgpu.ts (measured table, or autotuned at first use).

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, R: u32, S: u32, stride: u32,
  OH: u32, OW: u32, padTop: u32, padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn gemmDims() -> vec3u {
  return vec3u(p.C, p.N * p.H * p.W, p.K * p.R * p.S);
}

fn loadA(c: u32, krs: u32) -> f32 {
  let taps = p.R * p.S;
  return w[((krs / taps) * p.C + c) * taps + krs % taps];
}

fn loadB(krs: u32, col: u32) -> f32 {
  let s = krs % p.S;
  let r = (krs / p.S) % p.R;
  let k = krs / (p.S * p.R);
  let iw = col % p.W;
  let ih = (col / p.W) % p.H;
  let n = col / (p.W * p.H);
  // Position in the stride-spaced output grid; negative or between grid points means no output.
  let th = i32(ih + p.padTop) - i32(r);
  let tw = i32(iw + p.padLeft) - i32(s);
  if (th < 0 || tw < 0) {
    return 0.0;
  }
  let uh = u32(th);
  let uw = u32(tw);
  let oh = uh / p.stride;
  let ow = uw / p.stride;
  if (oh * p.stride != uh || ow * p.stride != uw || oh >= p.OH || ow >= p.OW) {
    return 0.0;
  }
  return dy[((n * p.K + k) * p.OH + oh) * p.OW + ow];
}

fn storeC(c: u32, col: u32, v: f32) {
  let pixels = p.H * p.W;
  dx[((col / pixels) * p.C + c) * pixels + col % pixels] = v;
}
