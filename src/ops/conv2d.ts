import conv2dWgsl from '../../shaders/conv2d.wgsl';
import backwardFilterWgsl from '../../shaders/conv2d_backward_filter.wgsl';
import backwardInputWgsl from '../../shaders/conv2d_backward_input.wgsl';
import { checkRank, checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { formatShape, type Shape, type Tensor } from '../backend/tensor.ts';
import { byBackend } from '../backend/dispatch.ts';
import { addressOf, wasmOf } from '../backend/wasm/backend.ts';
import { convBackwardFilterJob, convForwardJob } from '../backend/wasm/gemm-jobs.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { packParams, u32 } from '../backend/webgpu/kernel.ts';
import { checkEpilogue, epilogueFlags, type Epilogue, type EpilogueRef } from './epilogue.ts';
import { convKernel, runConvDirect, runConvFilterDirect } from './conv2d-webgpu.ts';
import { gemmCpu, gemmGrid, gemmKernel } from './gemm.ts';

// 2-D convolution (cross-correlation, as PyTorch and Keras compute it) in NCHW with weights
// [K,C,R,S]: y[n,k,oh,ow] = bias[k] + Σ_{c,r,s} w[k,c,r,s] · x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft],
// where pixels outside the image read as 0.

export type Padding = 'same' | 'valid';

export interface Conv2dOptions {
  /** Step between neighbouring outputs, in input pixels (default 1). */
  stride?: number;
  /** 'valid' (default): no padding. 'same': TensorFlow's rule, OH = ceil(H / stride). */
  padding?: Padding;
}

/**
 * The forward pass's options: the geometry, and what to do to each output after the bias in the
 * same pass (epilogue.ts): `relu`, then a per-filter `scale` and `shift` (a folded batch norm).
 */
export interface Conv2dForwardOptions extends Conv2dOptions, Epilogue {}

/** Every size a convolution needs: input N×C×H×W, K filters of C×R×S, output N×K×OH×OW. */
export interface Conv2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  S: number;
  stride: number;
  OH: number;
  OW: number;
  padTop: number;
  padLeft: number;
}

// ---- shapes ----

function geometry(op: string, xName: string, xShape: Shape, wName: string, wShape: Shape, opts: Conv2dOptions): Conv2dGeometry {
  for (const [name, shape, layout] of [[xName, xShape, '[N,C,H,W]'], [wName, wShape, '[K,C,R,S]']] as const) {
    if (shape.length !== 4) throw new FerError(`${op}: ${name} has shape ${formatShape(shape)}, wanted rank 4 ${layout}`);
    if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new FerError(`${op}: ${name} has shape ${formatShape(shape)}, wanted positive sizes ${layout}`);
    }
  }
  const [N, C, H, W] = xShape;
  const [K, Cw, R, S] = wShape;
  const stride = opts.stride ?? 1;
  const padding = opts.padding ?? 'valid';
  if (!Number.isInteger(stride) || stride < 1) throw new FerError(`${op}: stride must be a positive integer, got ${stride}`);
  if (padding !== 'same' && padding !== 'valid') throw new FerError(`${op}: padding must be 'same' or 'valid', got '${padding}'`);
  if (Cw !== C) {
    throw new FerError(`${op}: ${wName} ${formatShape(wShape)} has ${Cw} input channels but ${xName} ${formatShape(xShape)} has ${C}`);
  }
  if (padding === 'valid') {
    if (R > H || S > W) throw new FerError(`${op}: a ${R}×${S} kernel does not fit the ${H}×${W} input of ${xName} ${formatShape(xShape)} with padding 'valid'`);
    return { N, C, H, W, K, R, S, stride, OH: Math.floor((H - R) / stride) + 1, OW: Math.floor((W - S) / stride) + 1, padTop: 0, padLeft: 0 };
  }
  // TensorFlow's 'same': the odd pixel of padding goes to the bottom and right.
  const OH = Math.ceil(H / stride);
  const OW = Math.ceil(W / stride);
  const padTop = Math.floor(Math.max((OH - 1) * stride + R - H, 0) / 2);
  const padLeft = Math.floor(Math.max((OW - 1) * stride + S - W, 0) / 2);
  return { N, C, H, W, K, R, S, stride, OH, OW, padTop, padLeft };
}

/** Output size and padding of x[N,C,H,W] convolved with w[K,C,R,S]; one-line errors for shapes that do not fit. */
export function conv2dGeometry(xShape: Shape, wShape: Shape, opts: Conv2dOptions = {}): Conv2dGeometry {
  return geometry('conv2d', 'x', xShape, 'w', wShape, opts);
}

/** Floating-point operations of the forward pass (each backward pass costs the same). */
export function conv2dFlops(g: Conv2dGeometry): number {
  return 2 * g.N * g.K * g.OH * g.OW * g.C * g.R * g.S;
}

// ---- CPU reference ----
// A convolution is a product of the filter matrix with the matrix of patches: lay out, for one
// image, every input pixel each output pixel sees (im2col), and the convolution becomes
// W[K × CRS] · col[CRS × OH·OW], which gemmCpu computes at matrix-product speed. The two
// backward passes are the two other products of the same three matrices.

function like(a: Floats, n: number): Floats {
  return a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/**
 * col[(c·R + r)·S + s][oh·OW + ow] = x[n, c, oh·stride + r − padTop, ow·stride + s − padLeft], 0 in the
 * padding: row (c, r, s) holds what filter tap (c, r, s) multiplies at every output pixel.
 */
export function im2col(g: Conv2dGeometry, x: Floats, n: number, col: Floats): void {
  const { C, H, W, R, S, stride, OH, OW, padTop, padLeft } = g;
  let i = 0;
  for (let c = 0; c < C; c++) {
    const plane = (n * C + c) * H * W;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * stride + r - padTop;
          const inside = ih >= 0 && ih < H;
          const row = plane + ih * W;
          for (let ow = 0; ow < OW; ow++) {
            const iw = ow * stride + s - padLeft;
            col[i++] = inside && iw >= 0 && iw < W ? x[row + iw] : 0;
          }
        }
      }
    }
  }
}

/**
 * The adjoint of im2col: adds every entry of col back onto the input pixel it was copied from
 * (a pixel seen by several taps collects several terms). dx must hold image n's old values (zeros).
 */
export function col2im(g: Conv2dGeometry, col: Floats, n: number, dx: Floats): void {
  const { C, H, W, R, S, stride, OH, OW, padTop, padLeft } = g;
  let i = 0;
  for (let c = 0; c < C; c++) {
    const plane = (n * C + c) * H * W;
    for (let r = 0; r < R; r++) {
      for (let s = 0; s < S; s++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * stride + r - padTop;
          if (ih < 0 || ih >= H) {
            i += OW;
            continue;
          }
          const row = plane + ih * W;
          for (let ow = 0; ow < OW; ow++, i++) {
            const iw = ow * stride + s - padLeft;
            if (iw >= 0 && iw < W) dx[row + iw] += col[i];
          }
        }
      }
    }
  }
}

/**
 * y[N,K,OH,OW] = conv(x[N,C,H,W], w[K,C,R,S]) + bias[K]: per image, y_n = W · col_n. With an
 * epilogue (relu, scale, shift), each output then goes through finishRef in the same pass as the bias.
 */
export function conv2dRef(
  g: Conv2dGeometry, x: Floats, w: Floats, bias: Floats | null, y: Floats,
  e: Omit<EpilogueRef, 'bias'> = { relu: false, scale: null, shift: null },
): void {
  const P = g.OH * g.OW;
  const CRS = g.C * g.R * g.S;
  const col = like(x, CRS * P);
  for (let n = 0; n < g.N; n++) {
    im2col(g, x, n, col);
    gemmCpu(g.K, P, CRS, { data: w }, { data: col }, y, n * g.K * P);
    if (!bias && !e.relu && !e.scale) continue;
    for (let k = 0; k < g.K; k++) {
      const row = (n * g.K + k) * P;
      // finishRef with filter k's numbers hoisted out of the row (·1 + 0 leaves a value as it is).
      const b = bias ? bias[k] : 0;
      const s = e.scale ? e.scale[k] : 1;
      const t = e.shift ? e.shift[k] : 0;
      for (let p = 0; p < P; p++) {
        const v = y[row + p] + b;
        y[row + p] = (e.relu && !(v > 0) ? 0 : v) * s + t;
      }
    }
  }
}

/** dx[N,C,H,W] from dy[N,K,OH,OW]: per image, dcol = Wᵀ · dy_n, then col2im adds each entry back to its pixel. */
export function conv2dBackwardInputRef(g: Conv2dGeometry, dy: Floats, w: Floats, dx: Floats): void {
  const P = g.OH * g.OW;
  const CRS = g.C * g.R * g.S;
  const dcol = like(dy, CRS * P);
  dx.fill(0);
  for (let n = 0; n < g.N; n++) {
    gemmCpu(CRS, P, g.K, { data: w, trans: true }, { data: dy, offset: n * g.K * P }, dcol);
    col2im(g, dcol, n, dx);
  }
}

/** dw[K,C,R,S] from x and dy: Σ over images of dy_n · col_nᵀ. */
export function conv2dBackwardFilterRef(g: Conv2dGeometry, x: Floats, dy: Floats, dw: Floats): void {
  const P = g.OH * g.OW;
  const CRS = g.C * g.R * g.S;
  const col = like(x, CRS * P);
  for (let n = 0; n < g.N; n++) {
    im2col(g, x, n, col);
    gemmCpu(g.K, CRS, P, { data: dy, offset: n * g.K * P }, { data: col, trans: true }, dw, 0, n > 0);
  }
}

// ---- WebGPU: implicit GEMM, the same three products with the patches gathered on the fly ----

/** The Params struct of the three shaders: the geometry, then (forward only) the epilogue's flags. */
function params(g: Conv2dGeometry, epilogue?: { hasBias: boolean; e: Epilogue }): Uint8Array {
  const { N, C, H, W, K, R, S, stride, OH, OW, padTop, padLeft } = g;
  const flags = epilogue ? epilogueFlags(epilogue.hasBias, epilogue.e) : [];
  return packParams([N, C, H, W, K, R, S, stride, OH, OW, padTop, padLeft, ...flags].map(u32));
}

// ---- the ops ----

/**
 * y[N,K,OH,OW] = x[N,C,H,W] ⋆ w[K,C,R,S] + bias[K] (bias may be null); with `relu` and/or
 * `scale`/`shift` in opts, y = relu(… + bias)·scale[k] + shift[k], still one pass (one dispatch).
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dForwardOptions = {}): Tensor {
  const scale = opts.scale ?? null;
  const shift = opts.shift ?? null;
  checkTensors('conv2d', { x, w, bias, scale, shift });
  checkRank('conv2d', 'x', x, 4, '[N,C,H,W]');
  checkRank('conv2d', 'w', w, 4, '[K,C,R,S]');
  const g = conv2dGeometry(x.shape, w.shape, opts);
  if (bias) checkShape('conv2d', 'bias', bias, [g.K], 'one per filter');
  checkEpilogue('conv2d', opts, g.K, 'one per filter');
  const y = empty([g.N, g.K, g.OH, g.OW], x.backend);
  const spec = (): void => {
    const e = { relu: opts.relu ?? false, scale: scale ? cpuData(scale) : null, shift: shift ? cpuData(shift) : null };
    conv2dRef(g, cpuData(x), cpuData(w), bias ? cpuData(bias) : null, cpuData(y), e);
  };
  const wasm = (): void => {
    const at = (t: Tensor | null): number => (t ? addressOf(t) : 0);
    convForwardJob(wasmOf(x), g, g.K, addressOf(x), addressOf(w), addressOf(y), { bias: at(bias), scale: at(scale), shift: at(shift), relu: opts.relu ?? false });
  };
  byBackend(x, { cpu: spec, wasm, webgpu: () => conv2dGpu(g, x, w, bias, scale, shift, y, opts) });
  return y;
}

function conv2dGpu(g: Conv2dGeometry, x: Tensor, w: Tensor, bias: Tensor | null, scale: Tensor | null, shift: Tensor | null, y: Tensor, opts: Conv2dForwardOptions): void {
  const gpu = gpuOf(x);
  const choice = convKernel(gpu, 'forward', g);
  if (choice.family === 'direct') return runConvDirect(gpu, g, choice, true, x, w, bias, scale, shift, y, opts);
  const tiles = choice.tiles;
  const kernel = gemmKernel('conv2d.forward', conv2dWgsl, tiles, ['read', 'read', 'read', 'read', 'read', 'write']);
  const none = gpu.placeholder;
  gpu.run(kernel, [x, w, bias ?? none, scale ?? none, shift ?? none, y], params(g, { hasBias: bias !== null, e: opts }), gemmGrid(g.K, g.N * g.OH * g.OW, tiles));
}

/** dx[N,C,H,W] for the input of shape xShape, given dy[N,K,OH,OW] and the weights w[K,C,R,S]. */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, xShape: Shape, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2dBackwardInput';
  checkTensors(op, { dy, w });
  checkRank(op, 'w', w, 4, '[K,C,R,S]');
  const g = geometry(op, 'xShape', xShape, 'w', w.shape, opts);
  checkShape(op, 'dy', dy, [g.N, g.K, g.OH, g.OW], 'like the forward output');
  const dx = empty([g.N, g.C, g.H, g.W], dy.backend);
  const spec = (): void => conv2dBackwardInputRef(g, cpuData(dy), cpuData(w), cpuData(dx));
  byBackend(dy, {
    cpu: spec,
    // At stride 1 the gradient is itself a convolution, so the forward kernels compute it; a
    // strided layer (none in our models) takes the specification.
    wasm: () => (g.stride === 1 ? conv2dBackwardInputWasm(g, dy, w, dx) : spec()),
    webgpu: () => {
      const gpu = gpuOf(dy);
      const choice = convKernel(gpu, 'backward-input', g);
      if (choice.family === 'direct') return runConvDirect(gpu, g, choice, false, dy, w, null, null, null, dx);
      const tiles = choice.tiles;
      const kernel = gemmKernel('conv2d.backwardInput', backwardInputWgsl, tiles, ['read', 'read', 'write']);
      gpu.run(kernel, [dy, w, dx], params(g), gemmGrid(g.C, g.N * g.H * g.W, tiles));
    },
  });
  return dx;
}

/**
 * dx[n,c,h,w] = Σ_{k,r,s} dy[n,k,h−r+padTop, w−s+padLeft]·w[k,c,r,s] (stride 1) is the forward
 * convolution of dy with the filters turned 180° and their channel axes swapped,
 * w'[c,k,r',s'] = w[k,c,R−1−r',S−1−s'], padded by R−1−padTop above and S−1−padLeft left.
 */
function conv2dBackwardInputWasm(g: Conv2dGeometry, dy: Tensor, w: Tensor, dx: Tensor): void {
  const be = wasmOf(dy);
  const { K, C, R, S } = g;
  const src = cpuData(w);
  const flipped = be.scratch(4 * K * C * R * S);
  try {
    const f = be.heap.f32(flipped, K * C * R * S);
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < C; c++) {
        for (let r = 0; r < R; r++) {
          for (let s = 0; s < S; s++) f[((c * K + k) * R + (R - 1 - r)) * S + (S - 1 - s)] = src[((k * C + c) * R + r) * S + s];
        }
      }
    }
    const geo = { N: g.N, C: K, H: g.OH, W: g.OW, R, S, OH: g.H, OW: g.W, padTop: R - 1 - g.padTop, padLeft: S - 1 - g.padLeft, stride: 1 };
    convForwardJob(be, geo, C, addressOf(dy), flipped, addressOf(dx), { bias: 0, scale: 0, shift: 0, relu: false });
  } finally {
    be.free(flipped, 4 * K * C * R * S);
  }
}

/** dw[K,C,R,S] for weights of shape wShape, given the forward input x[N,C,H,W] and dy[N,K,OH,OW]. */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, wShape: Shape, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2dBackwardFilter';
  checkTensors(op, { x, dy });
  checkRank(op, 'x', x, 4, '[N,C,H,W]');
  const g = geometry(op, 'x', x.shape, 'wShape', wShape, opts);
  checkShape(op, 'dy', dy, [g.N, g.K, g.OH, g.OW], 'like the forward output');
  const dw = empty([g.K, g.C, g.R, g.S], x.backend);
  byBackend(x, {
    cpu: () => conv2dBackwardFilterRef(g, cpuData(x), cpuData(dy), cpuData(dw)),
    wasm: () => convBackwardFilterJob(wasmOf(x), g, g.K, addressOf(x), addressOf(dy), cpuData(dw)),
    webgpu: () => {
      const gpu = gpuOf(x);
      const choice = convKernel(gpu, 'backward-filter', g);
      if (choice.family === 'direct') return runConvFilterDirect(gpu, g, choice, x, dy, dw);
      const tiles = choice.tiles;
      const kernel = gemmKernel('conv2d.backwardFilter', backwardFilterWgsl, tiles, ['read', 'read', 'write']);
      gpu.run(kernel, [x, dy, dw], params(g), gemmGrid(g.K, g.C * g.R * g.S, tiles));
    },
  });
  return dw;
}
