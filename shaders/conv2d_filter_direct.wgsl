// conv2d_filter_direct.wgsl: the gradient of a convolution with respect to its filters, summed
// over the batch straight from x and dy, without the GEMM core's per-element index decoding.
//
//   dw[k,c,r,s] = Σ_{n,oh,ow} dy[n,k,oh,ow] · x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft]
//
// (0 where the tap falls in the padding). Invocation (x, y) owns TM filters (k = TM·y …) by TN = 4
// or 8 neighbouring weights of a filter (flat index (c,r,s) = TN·x …), each decoded once, before
// the loop, into an offset into x and a row and column shift. It then walks the output pixels
// (n, oh, ow) with a running offset: per pixel, TN reads of x (tested against the image's edges
// with one comparison per row and per column), TM reads of dy (the same for every invocation of
// a row of the grid) and TN·TM multiply-adds held in named vec4, c0…c7 for weights 0–3 and
// d0…d7 for weights 4–7. Why TN = 8: every read with a computed index is a 4-lane gather on
// SwiftShader, the costliest thing in the loop; at 8×8, 16 reads serve 64 multiply-adds against
// 12 for 32 at 8×4. Filters past K read the last real one, weights past C·R·S the last real one;
// neither is stored. No workgroup memory. Work per output: N·OH·OW multiply-adds, a long sum with
// few outputs.

struct Params {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, R: u32, S: u32, stride: u32,
  OH: u32, OW: u32, padTop: u32, padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

// x[i] where ok, else 0 (the index is only used where ok, so it stays in range).
fn tap(i: i32, ok: bool) -> f32 {
  return select(0.0, x[select(0u, u32(i), ok)], ok);
}

fn store4(k: u32, crs0: u32, count: u32, v: vec4f) {
  let at = k * p.C * p.R * p.S + crs0;
  dw[at] = v.x;
  if (count > 1u) { dw[at + 1u] = v.y; }
  if (count > 2u) { dw[at + 2u] = v.z; }
  if (count > 3u) { dw[at + 3u] = v.w; }
}

// One quad of weights for the block's filters (kCount of them real).
fn storeQuad(k0: u32, kCount: u32, crs0: u32, count: u32,
             q0: vec4f, q1: vec4f, q2: vec4f, q3: vec4f, q4: vec4f, q5: vec4f, q6: vec4f, q7: vec4f) {
  store4(k0, crs0, count, q0);
  if (kCount > 1u) { store4(k0 + 1u, crs0, count, q1); }
  if (kCount > 2u) { store4(k0 + 2u, crs0, count, q2); }
  if (kCount > 3u) { store4(k0 + 3u, crs0, count, q3); }
  if (TM == 8u) {
    if (kCount > 4u) { store4(k0 + 4u, crs0, count, q4); }
    if (kCount > 5u) { store4(k0 + 5u, crs0, count, q5); }
    if (kCount > 6u) { store4(k0 + 6u, crs0, count, q6); }
    if (kCount > 7u) { store4(k0 + 7u, crs0, count, q7); }
  }
}

@compute @workgroup_size(WG_N, WG_M)
fn conv_filter_direct(@builtin(global_invocation_id) gid: vec3u) {
  let CRS = p.C * p.R * p.S;
  let crs0 = gid.x * TN;
  let k0 = gid.y * TM;
  if (crs0 >= CRS || k0 >= p.K) {
    return;
  }
  let W = i32(p.W);
  let HW = i32(p.H * p.W);
  let st = i32(p.stride);
  // Column j's tap (c, r, s), as an offset into one image of x and its row and column shifts.
  let t0 = crs0;
  let t1 = min(crs0 + 1u, CRS - 1u);
  let t2 = min(crs0 + 2u, CRS - 1u);
  let t3 = min(crs0 + 3u, CRS - 1u);
  let taps = vec4u(t0, t1, t2, t3);
  let RS = p.R * p.S;
  let dr = vec4i((taps % RS) / p.S) - i32(p.padTop);
  let ds = vec4i(taps % p.S) - i32(p.padLeft);
  let xo = vec4i(taps / RS) * HW + dr * W + ds;
  // Weights 4–7 (TN = 8), the same way.
  let taps2 = min(vec4u(crs0 + 4u) + vec4u(0u, 1u, 2u, 3u), vec4u(CRS - 1u));
  let dr2 = vec4i((taps2 % RS) / p.S) - i32(p.padTop);
  let ds2 = vec4i(taps2 % p.S) - i32(p.padLeft);
  let xo2 = vec4i(taps2 / RS) * HW + dr2 * W + ds2;
  let P = p.OH * p.OW;
  let kLast = p.K - 1u;
  let b0 = k0 * P;
  let b1 = min(k0 + 1u, kLast) * P;
  let b2 = min(k0 + 2u, kLast) * P;
  let b3 = min(k0 + 3u, kLast) * P;
  let b4 = min(k0 + 4u, kLast) * P;
  let b5 = min(k0 + 5u, kLast) * P;
  let b6 = min(k0 + 6u, kLast) * P;
  let b7 = min(k0 + 7u, kLast) * P;
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  var c4 = vec4f();
  var c5 = vec4f();
  var c6 = vec4f();
  var c7 = vec4f();
  var d0 = vec4f();
  var d1 = vec4f();
  var d2 = vec4f();
  var d3 = vec4f();
  var d4 = vec4f();
  var d5 = vec4f();
  var d6 = vec4f();
  var d7 = vec4f();
  for (var n = 0u; n < p.N; n++) {
    let xn = i32(n * p.C) * HW;
    let dn = n * p.K * P;
    for (var oh = 0u; oh < p.OH; oh++) {
      let ih = vec4i(i32(oh) * st) + dr;
      let rowOk = vec4u(ih) < vec4u(p.H);
      let rowOk2 = vec4u(vec4i(i32(oh) * st) + dr2) < vec4u(p.H);
      var xi = xn + i32(oh) * st * W;
      var di = dn + oh * p.OW;
      for (var ow = 0u; ow < p.OW; ow++) {
        let iw = vec4i(i32(ow) * st) + ds;
        let ok = rowOk & (vec4u(iw) < vec4u(p.W));
        let v = vec4f(tap(xi + xo.x, ok.x), tap(xi + xo.y, ok.y), tap(xi + xo.z, ok.z), tap(xi + xo.w, ok.w));
        var u = vec4f();
        if (TN == 8u) {
          let iw2 = vec4i(i32(ow) * st) + ds2;
          let ok2 = rowOk2 & (vec4u(iw2) < vec4u(p.W));
          u = vec4f(tap(xi + xo2.x, ok2.x), tap(xi + xo2.y, ok2.y), tap(xi + xo2.z, ok2.z), tap(xi + xo2.w, ok2.w));
        }
        let g0 = dy[b0 + di];
        c0 = fma(vec4f(g0), v, c0);
        let g1 = dy[b1 + di];
        c1 = fma(vec4f(g1), v, c1);
        let g2 = dy[b2 + di];
        c2 = fma(vec4f(g2), v, c2);
        let g3 = dy[b3 + di];
        c3 = fma(vec4f(g3), v, c3);
        if (TN == 8u) {
          d0 = fma(vec4f(g0), u, d0);
          d1 = fma(vec4f(g1), u, d1);
          d2 = fma(vec4f(g2), u, d2);
          d3 = fma(vec4f(g3), u, d3);
        }
        if (TM == 8u) {
          let g4 = dy[b4 + di];
          c4 = fma(vec4f(g4), v, c4);
          let g5 = dy[b5 + di];
          c5 = fma(vec4f(g5), v, c5);
          let g6 = dy[b6 + di];
          c6 = fma(vec4f(g6), v, c6);
          let g7 = dy[b7 + di];
          c7 = fma(vec4f(g7), v, c7);
          if (TN == 8u) {
            d4 = fma(vec4f(g4), u, d4);
            d5 = fma(vec4f(g5), u, d5);
            d6 = fma(vec4f(g6), u, d6);
            d7 = fma(vec4f(g7), u, d7);
          }
        }
        xi += st;
        di += 1u;
      }
    }
  }
  let kCount = min(TM, p.K - k0);
  storeQuad(k0, kCount, crs0, min(4u, CRS - crs0), c0, c1, c2, c3, c4, c5, c6, c7);
  if (TN == 8u && crs0 + 4u < CRS) {
    storeQuad(k0, kCount, crs0 + 4u, min(4u, CRS - crs0 - 4u), d0, d1, d2, d3, d4, d5, d6, d7);
  }
}
