// conv2d.wgsl: the forward convolution y = x ⋆ w + bias as an implicit GEMM, with an optional
// epilogue in the store step: y = relu(x ⋆ w + bias)·scale[k] + shift[k].
//
//   y[n,k,oh,ow] = bias[k] + Σ_{c,r,s} w[k,c,r,s] · x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft]
//
// is the matrix product C = A·B with
//   A = the filters, K × (C·R·S): row k is filter k flattened, exactly as w is stored;
//   B = the patches, (C·R·S) × (N·OH·OW): column (n,oh,ow) holds the input pixels that output
//       pixel sees, row (c,r,s) the pixel under tap (c,r,s), 0 where the tap falls in the padding;
//   C = the output, K × (N·OH·OW), written back in NCHW order with the bias added, then (when
//       the flags say so) the relu and the per-filter scale and shift (a batch norm folded in
//       for inference): a few operations per output, instead of a whole extra pass over y each.
// B is never stored (that would be im2col, R·S times the input): loadB computes which input
// pixel a (row, column) of B means and reads it straight from x.
//
// The tiled loop is gemm.wgsl, appended by the dispatcher: it decides which invocation computes
// which outputs (a TM×TN block of C each) and what goes through workgroup memory (tiles of A and
// B in the 'shared' variant, nothing in 'registers'). Work per output: C·R·S multiply-adds, and
// per element of B read, a handful of integer divisions to find the pixel.
//
// Which of this GEMM form and conv2d_direct.wgsl runs at a shape on an adapter is chosen by
// src/ops/conv2d-webgpu.ts (measured table, or autotuned at first use).

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, R: u32, S: u32, stride: u32,
  OH: u32, OW: u32, padTop: u32, padLeft: u32,
  hasBias: u32, relu: u32, hasAffine: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> shift: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

fn gemmDims() -> vec3u {
  return vec3u(p.K, p.N * p.OH * p.OW, p.C * p.R * p.S);
}

fn loadA(k: u32, crs: u32) -> f32 {
  return w[k * p.C * p.R * p.S + crs];
}

fn loadB(crs: u32, col: u32) -> f32 {
  let s = crs % p.S;
  let r = (crs / p.S) % p.R;
  let c = crs / (p.S * p.R);
  let ow = col % p.OW;
  let oh = (col / p.OW) % p.OH;
  let n = col / (p.OW * p.OH);
  // Signed: a tap in the top or left padding lands above or left of the image.
  let ih = i32(oh * p.stride + r) - i32(p.padTop);
  let iw = i32(ow * p.stride + s) - i32(p.padLeft);
  if (ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) {
    return 0.0;
  }
  return x[((n * p.C + c) * p.H + u32(ih)) * p.W + u32(iw)];
}

fn storeC(k: u32, col: u32, v: f32) {
  let pixels = p.OH * p.OW;
  let n = col / pixels;
  var out = v;
  if (p.hasBias != 0u) {
    out += bias[k];
  }
  if (p.relu != 0u) {
    out = max(out, 0.0);
  }
  if (p.hasAffine != 0u) {
    out = fma(out, scale[k], shift[k]);
  }
  y[(n * p.K + k) * pixels + col % pixels] = out;
}
