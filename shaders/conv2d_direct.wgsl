// conv2d_direct.wgsl: a convolution computed straight from its input, without the GEMM core's
// per-element index decoding; the forward pass and (at stride 1) the input gradient.
//
//   out[n,m,oh,ow] = Σ_{ci,r,s} wt(m,ci,r,s) · src[n, ci, oh·stride + r, ow·stride + s]
//
// where src is the input with its zero border already in place (pad2d.wgsl: padTop rows above,
// padLeft columns left, and enough below and right that every tap of every invocation, stored
// or not, lands inside src), so the loop reads without testing. The weight wt(m,ci,r,s) is
// w[w0 + m·wsM + ci·wsC + r·wsR + s·wsS]:
//   forward:        src = x padded, m = filter k, ci = channel c, wt = w[k,c,r,s]   (wsM = C·R·S, wsC = R·S, wsR = S, wsS = 1)
//   input gradient: src = dy padded by R−1−padTop, S−1−padLeft, m = channel c, ci = filter k,
//                   wt = w[k,c,R−1−r,S−1−s] (the filters turned 180°: strides C·R·S for k, R·S for c, −S, −1).
//
// Invocation (x, y) owns TM output channels (m = TM·y …) by TN = 4·Q neighbouring output pixels
// of one row (ow = TN·g …, (n, oh, g) decoded from x once, before the loop), as Q quads of 4.
// It walks the taps (ci, r, s) with running offsets into src and w: no division and no edge test
// inside the loop. With ROW3 (3-wide rows at stride 1, every layer of our models) a row's 3 taps
// are unrolled: the TN pixels read TN + 2 neighbouring values. Per row of taps then: TN + 2 reads
// of src, 3·TM reads of w (the same for every invocation of a row of the grid), 3·TM·TN
// multiply-adds into the named vec4 c{quad}_{channel}.
//
// Why so large a block: on SwiftShader a read at a computed index is a 4-lane gather (four scalar
// loads), the costliest thing in the loop, and it is the reads per multiply-add that the block
// size divides: (TN + 2 + 3·TM) / (3·TM·TN) = 0.31 at 8×4, 0.18 at 8×8, 0.09 at 8×24, 0.06 at 16×24
// (bench/NOTES.md has what each measured). The registers run out long before that; the values
// that spill go to the stack with plain vector loads, far cheaper than a gather. The padded copy
// takes the edge tests (a comparison and two selects per read) out of the loop.
//
// Lines marked `// @unroll` are written out by the dispatcher (unrollLines in kernel.ts): once per
// quad q < Q, channel m < TM, tap j < 3, as marked, with $q, $m, $j and $(…) replaced by numbers;
// the counts named R3_… are 0 without ROW3 and those named ANY_… are 0 with it, so only the path
// that runs is written out (a 16×24 block takes some 3 s to compile on SwiftShader)
// (WGSL has no macros, SwiftShader does not unroll loops, and an indexed private array would live
// in memory). Channels past M read the last real one and pixels past OW are never stored. No
// workgroup memory. Work per output: Cin·R·S multiply-adds. The forward pass adds the epilogue in
// the store: out = relu(out + bias[m])·scale[m] + shift[m] (each part when its flag is set).

// H and W are the padded source's.
struct Params {
  N: u32, Cin: u32, H: u32, W: u32,
  M: u32, OH: u32, OW: u32, R: u32,
  S: u32, stride: u32, w0: u32, wsM: u32,
  wsC: i32, wsR: i32, wsS: i32, hasBias: u32,
  relu: u32, hasAffine: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> shift: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

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
  let groups = (p.OW + TN - 1u) / TN;
  let g = gid.x % groups;
  let oh = (gid.x / groups) % p.OH;
  let n = gid.x / (groups * p.OH);
  let m0 = gid.y * TM;
  if (n >= p.N || m0 >= p.M) {
    return;
  }
  let ow0 = g * TN;
  let st = i32(p.stride);
  let W = i32(p.W);
  let HW = i32(p.H * p.W);
  let mLast = p.M - 1u;
  // Weight offset of each owned channel (rows past M read the last one).
  let a$m = i32(p.w0 + min(m0 + $(m)u, mLast) * p.wsM); // @unroll m<TM
  var c$q_$m = vec4f(); // @unroll q<Q m<TM
  // Running offsets: xi into src for pixel 0 at the current tap, wi into w for channel 0.
  var xi = i32(n * p.Cin) * HW + i32(oh * p.stride) * W + i32(ow0 * p.stride);
  var wi = 0;
  for (var ci = 0u; ci < p.Cin; ci++) {
    for (var r = 0; r < i32(p.R); r++) {
      if (ROW3) {
        // 3 taps along a row at stride 1: the TN pixels read TN + 2 neighbouring values in all.
        let e$k = src[xi + $k]; // @unroll k<R3_TAPS
        let v$q_$j = vec4f(e$(4*q+j), e$(4*q+j+1), e$(4*q+j+2), e$(4*q+j+3)); // @unroll q<R3_Q j<3
        // @unroll m<R3_TM {
        let w$m_$j = w[a$m + wi + $j * p.wsS]; // @unroll j<3
        c$q_$m = fma(vec4f(w$m_$j), v$q_$j, c$q_$m); // @unroll q<R3_Q j<3
        // @unroll }
        xi += W;
        wi += p.wsR;
        continue;
      }
      for (var s = 0; s < i32(p.S); s++) {
        let e$k = src[xi + $k * st]; // @unroll k<ANY_TN
        let v$q = vec4f(e$(4*q), e$(4*q+1), e$(4*q+2), e$(4*q+3)); // @unroll q<ANY_Q
        // @unroll m<ANY_TM {
        let w$m = w[a$m + wi];
        c$q_$m = fma(vec4f(w$m), v$q, c$q_$m); // @unroll q<ANY_Q
        // @unroll }
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
  // Quad q of channel m, where both are real (the last quad may hold fewer than 4 pixels).
  if ($(m)u < mCount && ow0 + $(4*q)u < p.OW) { store4(m0 + $(m)u, base + $(4*q)u, min(4u, p.OW - ow0 - $(4*q)u), c$q_$m); } // @unroll q<Q m<TM
}
