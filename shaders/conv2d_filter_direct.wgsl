// conv2d_filter_direct.wgsl: the gradient of a convolution with respect to its filters, summed
// over the batch straight from x and dy, without the GEMM core's per-element index decoding.
//
//   dw[k,c,r,s] = Σ_{n,oh,ow} dy[n,k,oh,ow] · xp[n, c, oh·stride + r, ow·stride + s]
//
// where xp is x with its zero border in place (pad2d.wgsl: padTop rows above, padLeft columns
// left, enough below and right for every tap), so the loop reads without testing. Invocation
// (x, y) owns TM filters (k = TM·y …) by TN = 4·Q neighbouring weights of a filter (flat index
// (c,r,s) = TN·x …, Q quads of 4), each decoded once, before the loop, into an offset into xp.
// It then walks the output pixels (n, oh, ow) with a running offset: per pixel, TN reads of xp,
// TM reads of dy (the same for every invocation of a row of the grid) and TN·TM multiply-adds
// into the named vec4 c{quad}_{filter}.
// Why so large a block: on SwiftShader a read at a computed index is a 4-lane gather, the
// costliest thing in the loop, and the block divides the reads per multiply-add:
// (TN + TM) / (TN·TM) = 0.38 at 8×4, 0.25 at 8×8, 0.17 at 8×24 (bench/NOTES.md).
// Lines marked `// @unroll` are written out by the dispatcher (unrollLines in kernel.ts), once per
// quad q < Q and filter m < TM, with $q, $m and $(…) replaced by numbers. Filters past K read the
// last real one, weights past C·R·S the last real one; neither is stored. No workgroup memory.
// Work per output: N·OH·OW multiply-adds, a long sum with few outputs.

// H and W are the padded input's.
struct Params {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, R: u32, S: u32, stride: u32,
  OH: u32, OW: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

fn store4(k: u32, crs0: u32, count: u32, v: vec4f) {
  let at = k * p.C * p.R * p.S + crs0;
  dw[at] = v.x;
  if (count > 1u) { dw[at + 1u] = v.y; }
  if (count > 2u) { dw[at + 2u] = v.z; }
  if (count > 3u) { dw[at + 3u] = v.w; }
}

@compute @workgroup_size(WG_N, WG_M)
fn conv_filter_direct(@builtin(global_invocation_id) gid: vec3u) {
  let CRS = p.C * p.R * p.S;
  let crs0 = gid.x * TN;
  let k0 = gid.y * TM;
  if (crs0 >= CRS || k0 >= p.K) {
    return;
  }
  let W = p.W;
  let HW = p.H * p.W;
  let st = p.stride;
  let RS = p.R * p.S;
  // Quad q's 4 taps (c, r, s), as offsets into one image of xp.
  // @unroll q<Q {
  let t$q = min(vec4u(crs0 + $(4*q)u) + vec4u(0u, 1u, 2u, 3u), vec4u(CRS - 1u));
  let xo$q = (t$q / RS) * HW + ((t$q % RS) / p.S) * W + t$q % p.S;
  // @unroll }
  let P = p.OH * p.OW;
  let kLast = p.K - 1u;
  let b$m = min(k0 + $(m)u, kLast) * P; // @unroll m<TM
  var c$q_$m = vec4f(); // @unroll q<Q m<TM
  for (var n = 0u; n < p.N; n++) {
    let xn = n * p.C * HW;
    let dn = n * p.K * P;
    for (var oh = 0u; oh < p.OH; oh++) {
      var xi = xn + oh * st * W;
      var di = dn + oh * p.OW;
      for (var ow = 0u; ow < p.OW; ow++) {
        let v$q = vec4f(x[xi + xo$q.x], x[xi + xo$q.y], x[xi + xo$q.z], x[xi + xo$q.w]); // @unroll q<Q
        // @unroll m<TM {
        let g$m = dy[b$m + di];
        c$q_$m = fma(vec4f(g$m), v$q, c$q_$m); // @unroll q<Q
        // @unroll }
        xi += st;
        di += 1u;
      }
    }
  }
  let kCount = min(TM, p.K - k0);
  // Quad q of filter m, where both are real (the last quad may hold fewer than 4 weights).
  if ($(m)u < kCount && crs0 + $(4*q)u < CRS) { store4(k0 + $(m)u, crs0 + $(4*q)u, min(4u, CRS - crs0 - $(4*q)u), c$q_$m); } // @unroll q<Q m<TM
}
