// conv2d_backward_filter.wgsl: the gradient of a convolution with respect to its filters, as an
// implicit GEMM.
//
// Weight w[k,c,r,s] multiplied input pixel x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft]
// into output (n,k,oh,ow), for every image and output pixel; so
//
//   dw[k,c,r,s] = Σ_{n,oh,ow} dy[n,k,oh,ow] · x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft]
//
// (0 where the tap falls in the padding). That is C = A·B, summing over the whole batch:
//   A = the output gradients, K × (N·OH·OW): A[k][(n,oh,ow)] = dy[n,k,oh,ow];
//   B = the transposed patches, (N·OH·OW) × (C·R·S): B[(n,oh,ow)][(c,r,s)] = the x pixel above;
//   C = dw, K × (C·R·S), exactly as w is stored.
// Neither A nor B is stored: loadA and loadB compute the index and read dy and x in place.
//
// The tiled loop is gemm.wgsl, appended by the dispatcher: it decides which invocation computes
// which outputs (a TM×TN block of dw each) and what goes through workgroup memory (tiles of A
// and B in the 'shared' variant, nothing in 'registers'). Work per output: N·OH·OW multiply-adds,
// a long sum with few outputs, so small filters leave most of a big GPU idle.
//
// Which of this GEMM form and conv2d_filter_direct.wgsl runs at a shape on an adapter is chosen by
// src/ops/conv2d-webgpu.ts (measured table, or autotuned at first use).

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, R: u32, S: u32, stride: u32,
  OH: u32, OW: u32, padTop: u32, padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

fn gemmDims() -> vec3u {
  return vec3u(p.K, p.C * p.R * p.S, p.N * p.OH * p.OW);
}

fn loadA(k: u32, row: u32) -> f32 {
  let pixels = p.OH * p.OW;
  return dy[((row / pixels) * p.K + k) * pixels + row % pixels];
}

fn loadB(row: u32, crs: u32) -> f32 {
  let ow = row % p.OW;
  let oh = (row / p.OW) % p.OH;
  let n = row / (p.OW * p.OH);
  let s = crs % p.S;
  let r = (crs / p.S) % p.R;
  let c = crs / (p.S * p.R);
  // Signed: a tap in the top or left padding lands above or left of the image.
  let ih = i32(oh * p.stride + r) - i32(p.padTop);
  let iw = i32(ow * p.stride + s) - i32(p.padLeft);
  if (ih < 0 || ih >= i32(p.H) || iw < 0 || iw >= i32(p.W)) {
    return 0.0;
  }
  return x[((n * p.C + c) * p.H + u32(ih)) * p.W + u32(iw)];
}

fn storeC(k: u32, crs: u32, v: f32) {
  dw[k * p.C * p.R * p.S + crs] = v;
}
