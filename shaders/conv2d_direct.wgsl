// conv2d_direct.wgsl: a convolution computed straight from its input, without the GEMM core's
// per-element index decoding; the forward pass and (at stride 1) the input gradient.
//
//   out[n,m,oh,ow] = Σ_{ci,r,s} wt(m,ci,r,s) · src[n, ci, oh·stride + r − padTop, ow·stride + s − padLeft]
//
// (0 where the tap falls outside src). The weight wt(m,ci,r,s) is w[w0 + m·wsM + ci·wsC + r·wsR + s·wsS]:
//   forward:        src = x, m = filter k, ci = channel c, wt = w[k,c,r,s]   (wsM = C·R·S, wsC = R·S, wsR = S, wsS = 1)
//   input gradient: src = dy, m = channel c, ci = filter k, wt = w[k,c,R−1−r,S−1−s] (the filters turned
//                   180°, strides C·R·S for k, R·S for c, −S, −1), padded by R−1−padTop, S−1−padLeft.
//
// Invocation (x, y) owns TM output channels (m = TM·y …) by 4 neighbouring output pixels of one
// row (ow = 4·q …, (n, oh, q) decoded from x once, before the loop). It walks the taps (ci, r, s)
// with running offsets into src and w: no division inside the loop, one row test per r and one
// column test per s and pixel (with ROW3, set for 3-wide rows at stride 1, a row's 3 taps are
// unrolled and read 6 neighbouring values for the 4 pixels). Per tap: 4 reads of src (2 with
// ROW3), TM reads of w (the same for every invocation of a row of the grid), 4·TM multiply-adds
// held in TM named vec4 (one per channel:
// SwiftShader does not unroll loops, and an indexed private array would live in memory).
// Channels past M read the last real one and pixels past OW are never stored. No workgroup
// memory. Work per output: Cin·R·S multiply-adds. The forward pass adds the epilogue in the store:
// out = relu(out + bias[m])·scale[m] + shift[m] (each part when its flag is set).

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,
  M: u32, OH: u32, OW: u32, R: u32,
  S: u32, stride: u32, padTop: u32, padLeft: u32,
  w0: u32, wsM: u32, wsC: i32, wsR: i32,
  wsS: i32, hasBias: u32, relu: u32, hasAffine: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> shift: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

// src[i] where ok, else 0 (the index is only used where ok, so it stays in range).
fn tap(i: i32, ok: bool) -> f32 {
  return select(0.0, src[select(0u, u32(i), ok)], ok);
}

fn store4(m: u32, base: u32, count: u32, v: vec4f) {
  var o = v;
  if (p.hasBias != 0u) { o += vec4f(bias[m]); }
  if (p.relu != 0u) { o = max(o, vec4f(0.0)); }
  if (p.hasAffine != 0u) { o = fma(o, vec4f(scale[m]), vec4f(shift[m])); }
  let at = base + m * p.OH * p.OW;
  out[at] = o.x;
  if (count > 1u) { out[at + 1u] = o.y; }
  if (count > 2u) { out[at + 2u] = o.z; }
  if (count > 3u) { out[at + 3u] = o.w; }
}

@compute @workgroup_size(WG_N, WG_M)
fn conv_direct(@builtin(global_invocation_id) gid: vec3u) {
  let quads = (p.OW + 3u) / 4u;
  let q = gid.x % quads;
  let oh = (gid.x / quads) % p.OH;
  let n = gid.x / (quads * p.OH);
  let m0 = gid.y * TM;
  if (n >= p.N || m0 >= p.M) {
    return;
  }
  let ow0 = q * 4u;
  let st = i32(p.stride);
  let W = i32(p.W);
  let HW = i32(p.H * p.W);
  let ih0 = i32(oh * p.stride) - i32(p.padTop);
  let iw0 = i32(ow0 * p.stride) - i32(p.padLeft);
  let mLast = p.M - 1u;
  // Weight offset of each owned channel (rows past M read the last one).
  let a0 = i32(p.w0 + m0 * p.wsM);
  let a1 = i32(p.w0 + min(m0 + 1u, mLast) * p.wsM);
  let a2 = i32(p.w0 + min(m0 + 2u, mLast) * p.wsM);
  let a3 = i32(p.w0 + min(m0 + 3u, mLast) * p.wsM);
  let a4 = i32(p.w0 + min(m0 + 4u, mLast) * p.wsM);
  let a5 = i32(p.w0 + min(m0 + 5u, mLast) * p.wsM);
  let a6 = i32(p.w0 + min(m0 + 6u, mLast) * p.wsM);
  let a7 = i32(p.w0 + min(m0 + 7u, mLast) * p.wsM);
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  var c4 = vec4f();
  var c5 = vec4f();
  var c6 = vec4f();
  var c7 = vec4f();
  // Running offsets: xi into src for pixel 0 at the current tap, wi into w for channel 0.
  var xi = i32(n * p.Cin) * HW + ih0 * W + iw0;
  var wi = 0;
  for (var ci = 0u; ci < p.Cin; ci++) {
    for (var r = 0; r < i32(p.R); r++) {
      let rowOk = u32(ih0 + r) < p.H;
      if (ROW3) {
        // 3 taps along a row at stride 1: the 4 pixels read 6 neighbouring values in all.
        let e0 = tap(xi, rowOk && u32(iw0) < p.W);
        let e1 = tap(xi + 1, rowOk && u32(iw0 + 1) < p.W);
        let e2 = tap(xi + 2, rowOk && u32(iw0 + 2) < p.W);
        let e3 = tap(xi + 3, rowOk && u32(iw0 + 3) < p.W);
        let e4 = tap(xi + 4, rowOk && u32(iw0 + 4) < p.W);
        let e5 = tap(xi + 5, rowOk && u32(iw0 + 5) < p.W);
        let v0 = vec4f(e0, e1, e2, e3);
        let v1 = vec4f(e1, e2, e3, e4);
        let v2 = vec4f(e2, e3, e4, e5);
        let d1 = wi + p.wsS;
        let d2 = d1 + p.wsS;
        c0 = fma(vec4f(w[a0 + wi]), v0, c0);
        c1 = fma(vec4f(w[a1 + wi]), v0, c1);
        c2 = fma(vec4f(w[a2 + wi]), v0, c2);
        c3 = fma(vec4f(w[a3 + wi]), v0, c3);
        c0 = fma(vec4f(w[a0 + d1]), v1, c0);
        c1 = fma(vec4f(w[a1 + d1]), v1, c1);
        c2 = fma(vec4f(w[a2 + d1]), v1, c2);
        c3 = fma(vec4f(w[a3 + d1]), v1, c3);
        c0 = fma(vec4f(w[a0 + d2]), v2, c0);
        c1 = fma(vec4f(w[a1 + d2]), v2, c1);
        c2 = fma(vec4f(w[a2 + d2]), v2, c2);
        c3 = fma(vec4f(w[a3 + d2]), v2, c3);
        if (TM == 8u) {
          c4 = fma(vec4f(w[a4 + wi]), v0, c4);
          c5 = fma(vec4f(w[a5 + wi]), v0, c5);
          c6 = fma(vec4f(w[a6 + wi]), v0, c6);
          c7 = fma(vec4f(w[a7 + wi]), v0, c7);
          c4 = fma(vec4f(w[a4 + d1]), v1, c4);
          c5 = fma(vec4f(w[a5 + d1]), v1, c5);
          c6 = fma(vec4f(w[a6 + d1]), v1, c6);
          c7 = fma(vec4f(w[a7 + d1]), v1, c7);
          c4 = fma(vec4f(w[a4 + d2]), v2, c4);
          c5 = fma(vec4f(w[a5 + d2]), v2, c5);
          c6 = fma(vec4f(w[a6 + d2]), v2, c6);
          c7 = fma(vec4f(w[a7 + d2]), v2, c7);
        }
        xi += W;
        wi += p.wsR;
        continue;
      }
      for (var s = 0; s < i32(p.S); s++) {
        let iw = iw0 + s;
        let v = vec4f(
          tap(xi, rowOk && u32(iw) < p.W),
          tap(xi + st, rowOk && u32(iw + st) < p.W),
          tap(xi + 2 * st, rowOk && u32(iw + 2 * st) < p.W),
          tap(xi + 3 * st, rowOk && u32(iw + 3 * st) < p.W));
        c0 = fma(vec4f(w[a0 + wi]), v, c0);
        c1 = fma(vec4f(w[a1 + wi]), v, c1);
        c2 = fma(vec4f(w[a2 + wi]), v, c2);
        c3 = fma(vec4f(w[a3 + wi]), v, c3);
        if (TM == 8u) {
          c4 = fma(vec4f(w[a4 + wi]), v, c4);
          c5 = fma(vec4f(w[a5 + wi]), v, c5);
          c6 = fma(vec4f(w[a6 + wi]), v, c6);
          c7 = fma(vec4f(w[a7 + wi]), v, c7);
        }
        xi += 1;
        wi += p.wsS;
      }
      xi += W - i32(p.S);
      wi += p.wsR - i32(p.S) * p.wsS;
    }
    xi += HW - i32(p.R) * W;
    wi += p.wsC - i32(p.R) * p.wsR;
  }
  let count = min(4u, p.OW - ow0);
  let base = n * p.M * p.OH * p.OW + oh * p.OW + ow0;
  let mCount = min(TM, p.M - m0);
  store4(m0, base, count, c0);
  if (mCount > 1u) { store4(m0 + 1u, base, count, c1); }
  if (mCount > 2u) { store4(m0 + 2u, base, count, c2); }
  if (mCount > 3u) { store4(m0 + 3u, base, count, c3); }
  if (TM == 8u) {
    if (mCount > 4u) { store4(m0 + 4u, base, count, c4); }
    if (mCount > 5u) { store4(m0 + 5u, base, count, c5); }
    if (mCount > 6u) { store4(m0 + 6u, base, count, c6); }
    if (mCount > 7u) { store4(m0 + 7u, base, count, c7); }
  }
}
