// maxpool2d.wgsl: 2-D max pooling over each channel's plane, NCHW, and its gradient.
//
//   forward:  y[n,c,oh,ow] = max over the size×size window whose top-left input pixel is
//             (oh·stride − padTop, ow·stride − padLeft); cells outside the image (the 'same'
//             padding) are skipped, so they never win. Every window holds at least one real cell.
//   backward: dx[n,c,ih,iw] = Σ dy[n,c,oh,ow] over the windows whose argmax is (ih, iw).
//
// The argmax of a window is its FIRST maximum in row-major window order (a strict > while
// scanning), the rule the CPU reference uses too, so both route a tied window's gradient alike.
//
// forward: one invocation per output, 256 per workgroup on the 2-D grid; size² loads per output.
// backward, without atomics: one invocation per INPUT element. It visits every window that
//   contains its pixel (⌈size/stride⌉² of them at most), recomputes that window's argmax from x
//   and adds the window's dy if the argmax is its own pixel. Overlapping windows (stride < size)
//   need nothing special. Work per input: up to ⌈size/stride⌉²·size² loads of x (4 windows × 4
//   cells for 2×2/2: each x is read once per window anyway). Windows are visited in row-major
//   (oh, ow) order, the order the CPU reference adds them in. No workgroup memory in either.
// backward_tiles, for windows that do not overlap (stride ≥ size, as 2×2 at stride 2): one
//   invocation per WINDOW, which finds its argmax once (size² loads) and writes every input
//   cell of its tile (the stride×stride cells from the window's corner up to the next window's,
//   the last tile of a row or column running to the image's edge): dy at the argmax, 0 elsewhere.
//   Each input has one owner, so still no atomics; against `backward` (every input re-scanning
//   its window) it loads x size² times fewer.
// forward2x2 and backward2x2, for the common 2×2 windows at stride 2 without padding: the same
//   per-window work written out, with no loop and no edge test: the window's four cells at i,
//   i + 1, i + w, i + w + 1 in row-major order, its first maximum by three strict comparisons,
//   and (backward) its four cells of dx written. An odd last column or row is in no window: the
//   window beside it writes its zeros, as in backward_tiles. SwiftShader does not unroll loops,
//   so the general kernels pay, per window, four trips of bounds tests and the tile's two loops.

struct Params {
  n: u32,
  c: u32,
  h: u32,
  w: u32,
  size: u32,
  stride: u32,
  oh: u32,
  ow: u32,
  padTop: u32,
  padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// forward bindings
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// The flat index in x of the window's first maximum; `plane` is the offset of its (n, c) plane.
fn windowArgmax(plane: u32, oh: u32, ow: u32) -> u32 {
  let top = i32(oh * p.stride) - i32(p.padTop);
  let left = i32(ow * p.stride) - i32(p.padLeft);
  var best = 0u;
  var bestV = 0.0;
  var found = false;
  for (var r = 0; r < i32(p.size); r++) {
    let ih = top + r;
    if (ih < 0 || ih >= i32(p.h)) {
      continue;
    }
    for (var s = 0; s < i32(p.size); s++) {
      let iw = left + s;
      if (iw < 0 || iw >= i32(p.w)) {
        continue;
      }
      let i = plane + u32(ih) * p.w + u32(iw);
      let v = x[i];
      if (!found || v > bestV) {
        best = i;
        bestV = v;
        found = true;
      }
    }
  }
  return best;
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  let perPlane = p.oh * p.ow;
  if (o >= p.n * p.c * perPlane) {
    return;
  }
  let nc = o / perPlane;
  let rest = o - nc * perPlane;
  let oh = rest / p.ow;
  let ow = rest - oh * p.ow;
  y[o] = x[windowArgmax(nc * p.h * p.w, oh, ow)];
}

// backward bindings: the forward input x stays at binding 1 (windowArgmax reads it), then the
// output gradient and the input gradient
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let perPlane = p.h * p.w;
  if (i >= p.n * p.c * perPlane) {
    return;
  }
  let nc = i / perPlane;
  let rest = i - nc * perPlane;
  let ih = i32(rest / p.w);
  let iw = i32(rest - u32(ih) * p.w);
  // Window oh covers rows oh·stride − padTop … oh·stride − padTop + size − 1, so it contains ih
  // when (ih + padTop − size + 1)/stride ≤ oh ≤ (ih + padTop)/stride.
  let st = i32(p.stride);
  let sz = i32(p.size);
  let row = ih + i32(p.padTop);
  let col = iw + i32(p.padLeft);
  let oh0 = max(row - sz + st, 0) / st;   // ⌈(row − size + 1)/stride⌉ clamped at 0
  let oh1 = min(row / st, i32(p.oh) - 1);
  let ow0 = max(col - sz + st, 0) / st;
  let ow1 = min(col / st, i32(p.ow) - 1);
  let plane = nc * perPlane;
  var sum = 0.0;
  for (var oh = oh0; oh <= oh1; oh++) {
    for (var ow = ow0; ow <= ow1; ow++) {
      if (windowArgmax(plane, u32(oh), u32(ow)) == i) {
        sum += dy[(nc * p.oh + u32(oh)) * p.ow + u32(ow)];
      }
    }
  }
  dx[i] = sum;
}

@compute @workgroup_size(256)
fn backward_tiles(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  let perPlane = p.oh * p.ow;
  if (o >= p.n * p.c * perPlane) {
    return;
  }
  let nc = o / perPlane;
  let rest = o - nc * perPlane;
  let oh = rest / p.ow;
  let ow = rest - oh * p.ow;
  let plane = nc * p.h * p.w;
  let best = windowArgmax(plane, oh, ow);
  let g = dy[o];
  // The tile: rows from this window's top (or 0) to the next window's top (or the image's bottom).
  let r0 = u32(max(i32(oh * p.stride) - i32(p.padTop), 0));
  let c0 = u32(max(i32(ow * p.stride) - i32(p.padLeft), 0));
  var r1 = p.h;
  if (oh + 1u < p.oh) { r1 = u32(max(i32((oh + 1u) * p.stride) - i32(p.padTop), 0)); }
  var c1 = p.w;
  if (ow + 1u < p.ow) { c1 = u32(max(i32((ow + 1u) * p.stride) - i32(p.padLeft), 0)); }
  for (var r = r0; r < r1; r++) {
    for (var c = c0; c < c1; c++) {
      let i = plane + r * p.w + c;
      dx[i] = select(0.0, g, i == best);
    }
  }
}

// ---- 2×2 windows at stride 2, no padding ----

// The flat index in x of the top-left cell of output o's window, and the window's (oh, ow).
fn window2x2(o: u32) -> vec3u {
  let perPlane = p.oh * p.ow;
  let nc = o / perPlane;
  let rest = o - nc * perPlane;
  let oh = rest / p.ow;
  let ow = rest - oh * p.ow;
  return vec3u(nc * p.h * p.w + 2u * oh * p.w + 2u * ow, oh, ow);
}

// 0..3: which of the four cells is the first maximum (row-major, strict >, as windowArgmax).
fn argmax2x2(i: u32) -> u32 {
  var k = 0u;
  var v = x[i];
  let b = x[i + 1u];
  if (b > v) { k = 1u; v = b; }
  let c = x[i + p.w];
  if (c > v) { k = 2u; v = c; }
  if (x[i + p.w + 1u] > v) { k = 3u; }
  return k;
}

@compute @workgroup_size(256)
fn forward2x2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  if (o >= p.n * p.c * p.oh * p.ow) {
    return;
  }
  // The first maximum's value, by the same strict comparisons (not max(), whose NaN and ±0
  // handling WGSL leaves to the implementation).
  let i = window2x2(o).x;
  var v = x[i];
  let b = x[i + 1u];
  v = select(v, b, b > v);
  let c = x[i + p.w];
  v = select(v, c, c > v);
  let d = x[i + p.w + 1u];
  y[o] = select(v, d, d > v);
}

@compute @workgroup_size(256)
fn backward2x2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  if (o >= p.n * p.c * p.oh * p.ow) {
    return;
  }
  let win = window2x2(o);
  let i = win.x;
  let k = argmax2x2(i);
  let g = dy[o];
  dx[i] = select(0.0, g, k == 0u);
  dx[i + 1u] = select(0.0, g, k == 1u);
  dx[i + p.w] = select(0.0, g, k == 2u);
  dx[i + p.w + 1u] = select(0.0, g, k == 3u);
  // An odd width or height leaves a last column or row in no window: zeros, written by the
  // window beside it (and the corner by the last window).
  let lastCol = win.z + 1u == p.ow && (p.w & 1u) == 1u;
  if (lastCol) {
    dx[i + 2u] = 0.0;
    dx[i + p.w + 2u] = 0.0;
  }
  if (win.y + 1u == p.oh && (p.h & 1u) == 1u) {
    dx[i + 2u * p.w] = 0.0;
    dx[i + 2u * p.w + 1u] = 0.0;
    if (lastCol) {
      dx[i + 2u * p.w + 2u] = 0.0;
    }
  }
}
