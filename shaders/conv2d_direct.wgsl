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
// Invocation (x, y) owns TM output channels (m = TM·y …) by TN = 4 or 8 neighbouring output
// pixels of one row (ow = TN·q …, (n, oh, q) decoded from x once, before the loop). It walks the
// taps (ci, r, s) with running offsets into src and w: no division inside the loop, one row test
// per r and one column test per s and pixel (with ROW3, set for 3-wide rows at stride 1, a row's
// 3 taps are unrolled and read TN + 2 neighbouring values for the TN pixels). Per tap: TN reads
// of src (TN/3 + 2/3 with ROW3), TM reads of w (the same for every invocation of a row of the
// grid), TN·TM multiply-adds held in named vec4, c0…c7 for pixels 0–3 and d0…d7 for pixels 4–7
// (SwiftShader does not unroll loops, and an indexed private array would live in memory).
// Why TN = 8: on SwiftShader every read with a computed index is a 4-lane gather, the costliest
// thing in the loop; 8×8 makes 10 + 24 reads serve 192 multiply-adds per row of taps, against
// 6 + 24 for 96 at 8×4 (bench/NOTES.md). Channels past M read the last real one and pixels past
// OW are never stored. No workgroup memory. Work per output: Cin·R·S multiply-adds. The forward pass adds the epilogue in the store:
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

// One quad of pixels for the block's channels (mCount of them real).
fn storeQuad(m0: u32, mCount: u32, base: u32, count: u32,
             q0: vec4f, q1: vec4f, q2: vec4f, q3: vec4f, q4: vec4f, q5: vec4f, q6: vec4f, q7: vec4f) {
  store4(m0, base, count, q0);
  if (mCount > 1u) { store4(m0 + 1u, base, count, q1); }
  if (mCount > 2u) { store4(m0 + 2u, base, count, q2); }
  if (mCount > 3u) { store4(m0 + 3u, base, count, q3); }
  if (TM == 8u) {
    if (mCount > 4u) { store4(m0 + 4u, base, count, q4); }
    if (mCount > 5u) { store4(m0 + 5u, base, count, q5); }
    if (mCount > 6u) { store4(m0 + 6u, base, count, q6); }
    if (mCount > 7u) { store4(m0 + 7u, base, count, q7); }
  }
}

@compute @workgroup_size(WG_N, WG_M)
fn conv_direct(@builtin(global_invocation_id) gid: vec3u) {
  let groups = (p.OW + TN - 1u) / TN;
  let q = gid.x % groups;
  let oh = (gid.x / groups) % p.OH;
  let n = gid.x / (groups * p.OH);
  let m0 = gid.y * TM;
  if (n >= p.N || m0 >= p.M) {
    return;
  }
  let ow0 = q * TN;
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
  var d0 = vec4f();
  var d1 = vec4f();
  var d2 = vec4f();
  var d3 = vec4f();
  var d4 = vec4f();
  var d5 = vec4f();
  var d6 = vec4f();
  var d7 = vec4f();
  // Running offsets: xi into src for pixel 0 at the current tap, wi into w for channel 0.
  var xi = i32(n * p.Cin) * HW + ih0 * W + iw0;
  var wi = 0;
  for (var ci = 0u; ci < p.Cin; ci++) {
    for (var r = 0; r < i32(p.R); r++) {
      let rowOk = u32(ih0 + r) < p.H;
      if (ROW3) {
        // 3 taps along a row at stride 1: the TN pixels read TN + 2 neighbouring values in all.
        let e0 = tap(xi, rowOk && u32(iw0) < p.W);
        let e1 = tap(xi + 1, rowOk && u32(iw0 + 1) < p.W);
        let e2 = tap(xi + 2, rowOk && u32(iw0 + 2) < p.W);
        let e3 = tap(xi + 3, rowOk && u32(iw0 + 3) < p.W);
        let e4 = tap(xi + 4, rowOk && u32(iw0 + 4) < p.W);
        let e5 = tap(xi + 5, rowOk && u32(iw0 + 5) < p.W);
        let v0 = vec4f(e0, e1, e2, e3);
        let v1 = vec4f(e1, e2, e3, e4);
        let v2 = vec4f(e2, e3, e4, e5);
        var u0 = vec4f();
        var u1 = vec4f();
        var u2 = vec4f();
        if (TN == 8u) {
          let e6 = tap(xi + 6, rowOk && u32(iw0 + 6) < p.W);
          let e7 = tap(xi + 7, rowOk && u32(iw0 + 7) < p.W);
          let e8 = tap(xi + 8, rowOk && u32(iw0 + 8) < p.W);
          let e9 = tap(xi + 9, rowOk && u32(iw0 + 9) < p.W);
          u0 = vec4f(e4, e5, e6, e7);
          u1 = vec4f(e5, e6, e7, e8);
          u2 = vec4f(e6, e7, e8, e9);
        }
        let t1 = wi + p.wsS;
        let t2 = t1 + p.wsS;
        let w00 = w[a0 + wi];
        let w01 = w[a0 + t1];
        let w02 = w[a0 + t2];
        c0 = fma(vec4f(w00), v0, c0);
        c0 = fma(vec4f(w01), v1, c0);
        c0 = fma(vec4f(w02), v2, c0);
        let w10 = w[a1 + wi];
        let w11 = w[a1 + t1];
        let w12 = w[a1 + t2];
        c1 = fma(vec4f(w10), v0, c1);
        c1 = fma(vec4f(w11), v1, c1);
        c1 = fma(vec4f(w12), v2, c1);
        let w20 = w[a2 + wi];
        let w21 = w[a2 + t1];
        let w22 = w[a2 + t2];
        c2 = fma(vec4f(w20), v0, c2);
        c2 = fma(vec4f(w21), v1, c2);
        c2 = fma(vec4f(w22), v2, c2);
        let w30 = w[a3 + wi];
        let w31 = w[a3 + t1];
        let w32 = w[a3 + t2];
        c3 = fma(vec4f(w30), v0, c3);
        c3 = fma(vec4f(w31), v1, c3);
        c3 = fma(vec4f(w32), v2, c3);
        if (TN == 8u) {
          d0 = fma(vec4f(w00), u0, d0);
          d0 = fma(vec4f(w01), u1, d0);
          d0 = fma(vec4f(w02), u2, d0);
          d1 = fma(vec4f(w10), u0, d1);
          d1 = fma(vec4f(w11), u1, d1);
          d1 = fma(vec4f(w12), u2, d1);
          d2 = fma(vec4f(w20), u0, d2);
          d2 = fma(vec4f(w21), u1, d2);
          d2 = fma(vec4f(w22), u2, d2);
          d3 = fma(vec4f(w30), u0, d3);
          d3 = fma(vec4f(w31), u1, d3);
          d3 = fma(vec4f(w32), u2, d3);
        }
        if (TM == 8u) {
          let w40 = w[a4 + wi];
          let w41 = w[a4 + t1];
          let w42 = w[a4 + t2];
          c4 = fma(vec4f(w40), v0, c4);
          c4 = fma(vec4f(w41), v1, c4);
          c4 = fma(vec4f(w42), v2, c4);
          let w50 = w[a5 + wi];
          let w51 = w[a5 + t1];
          let w52 = w[a5 + t2];
          c5 = fma(vec4f(w50), v0, c5);
          c5 = fma(vec4f(w51), v1, c5);
          c5 = fma(vec4f(w52), v2, c5);
          let w60 = w[a6 + wi];
          let w61 = w[a6 + t1];
          let w62 = w[a6 + t2];
          c6 = fma(vec4f(w60), v0, c6);
          c6 = fma(vec4f(w61), v1, c6);
          c6 = fma(vec4f(w62), v2, c6);
          let w70 = w[a7 + wi];
          let w71 = w[a7 + t1];
          let w72 = w[a7 + t2];
          c7 = fma(vec4f(w70), v0, c7);
          c7 = fma(vec4f(w71), v1, c7);
          c7 = fma(vec4f(w72), v2, c7);
          if (TN == 8u) {
            d4 = fma(vec4f(w40), u0, d4);
            d4 = fma(vec4f(w41), u1, d4);
            d4 = fma(vec4f(w42), u2, d4);
            d5 = fma(vec4f(w50), u0, d5);
            d5 = fma(vec4f(w51), u1, d5);
            d5 = fma(vec4f(w52), u2, d5);
            d6 = fma(vec4f(w60), u0, d6);
            d6 = fma(vec4f(w61), u1, d6);
            d6 = fma(vec4f(w62), u2, d6);
            d7 = fma(vec4f(w70), u0, d7);
            d7 = fma(vec4f(w71), u1, d7);
            d7 = fma(vec4f(w72), u2, d7);
          }
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
        var u = vec4f();
        if (TN == 8u) {
          u = vec4f(
            tap(xi + 4 * st, rowOk && u32(iw + 4 * st) < p.W),
            tap(xi + 5 * st, rowOk && u32(iw + 5 * st) < p.W),
            tap(xi + 6 * st, rowOk && u32(iw + 6 * st) < p.W),
            tap(xi + 7 * st, rowOk && u32(iw + 7 * st) < p.W));
        }
        let w0 = w[a0 + wi];
        c0 = fma(vec4f(w0), v, c0);
        let w1 = w[a1 + wi];
        c1 = fma(vec4f(w1), v, c1);
        let w2 = w[a2 + wi];
        c2 = fma(vec4f(w2), v, c2);
        let w3 = w[a3 + wi];
        c3 = fma(vec4f(w3), v, c3);
        if (TN == 8u) {
          d0 = fma(vec4f(w0), u, d0);
          d1 = fma(vec4f(w1), u, d1);
          d2 = fma(vec4f(w2), u, d2);
          d3 = fma(vec4f(w3), u, d3);
        }
        if (TM == 8u) {
          let w4 = w[a4 + wi];
          c4 = fma(vec4f(w4), v, c4);
          let w5 = w[a5 + wi];
          c5 = fma(vec4f(w5), v, c5);
          let w6 = w[a6 + wi];
          c6 = fma(vec4f(w6), v, c6);
          let w7 = w[a7 + wi];
          c7 = fma(vec4f(w7), v, c7);
          if (TN == 8u) {
            d4 = fma(vec4f(w4), u, d4);
            d5 = fma(vec4f(w5), u, d5);
            d6 = fma(vec4f(w6), u, d6);
            d7 = fma(vec4f(w7), u, d7);
          }
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
  let base = n * p.M * p.OH * p.OW + oh * p.OW + ow0;
  let mCount = min(TM, p.M - m0);
  storeQuad(m0, mCount, base, min(4u, p.OW - ow0), c0, c1, c2, c3, c4, c5, c6, c7);
  if (TN == 8u && ow0 + 4u < p.OW) {
    storeQuad(m0, mCount, base + 4u, min(4u, p.OW - ow0 - 4u), d0, d1, d2, d3, d4, d5, d6, d7);
  }
}
