import maxpoolWgsl from '../../shaders/maxpool2d.wgsl';
import { checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { addressOf, wasmOf } from '../backend/wasm/backend.ts';
import { maxPool2x2Wasm } from '../backend/wasm/layers.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { formatShape, type Shape, type Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';

// 2-D max pooling in NCHW: y[n,c,oh,ow] is the largest x[n,c,ih,iw] in the size×size window at
// (oh·stride − padTop, ow·stride − padLeft). Padding cells are not values: they never win.
// The gradient goes to the window's argmax, the FIRST maximum in row-major window order.

export interface Pool2dOptions {
  /** Window side (default 2). */
  size?: number;
  /** Step between windows (default: size, windows that tile the image). */
  stride?: number;
  /** 'valid' (default, as Keras): whole windows only. 'same': TensorFlow's rule, OH = ceil(H / stride). */
  padding?: 'valid' | 'same';
}

export interface Pool2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  size: number;
  stride: number;
  OH: number;
  OW: number;
  padTop: number;
  padLeft: number;
}

// ---- shapes ----

function geometry(op: string, name: string, xShape: Shape, opts: Pool2dOptions): Pool2dGeometry {
  if (xShape.length !== 4 || !xShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FerError(`${op}: ${name} has shape ${formatShape(xShape)}, wanted rank 4 [N,C,H,W] with positive sizes`);
  }
  const [N, C, H, W] = xShape;
  const size = opts.size ?? 2;
  const stride = opts.stride ?? size;
  const padding = opts.padding ?? 'valid';
  if (!Number.isInteger(size) || size < 1) throw new FerError(`${op}: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(stride) || stride < 1) throw new FerError(`${op}: stride must be a positive integer, got ${stride}`);
  if (padding !== 'valid' && padding !== 'same') throw new FerError(`${op}: padding must be 'valid' or 'same', got '${padding}'`);
  if (padding === 'valid') {
    if (size > H || size > W) {
      throw new FerError(`${op}: a ${size}×${size} window does not fit the ${H}×${W} input of ${name} ${formatShape(xShape)} with padding 'valid'`);
    }
    return { N, C, H, W, size, stride, OH: Math.floor((H - size) / stride) + 1, OW: Math.floor((W - size) / stride) + 1, padTop: 0, padLeft: 0 };
  }
  // TensorFlow's 'same': the odd cell of padding goes to the bottom and right. The padding is
  // less than size on each side, so every window holds at least one real cell.
  const OH = Math.ceil(H / stride);
  const OW = Math.ceil(W / stride);
  const padTop = Math.floor(Math.max((OH - 1) * stride + size - H, 0) / 2);
  const padLeft = Math.floor(Math.max((OW - 1) * stride + size - W, 0) / 2);
  return { N, C, H, W, size, stride, OH, OW, padTop, padLeft };
}

/** Output size and padding of pooling x[N,C,H,W]; one-line errors for shapes and options that do not fit. */
export function pool2dGeometry(xShape: Shape, opts: Pool2dOptions = {}): Pool2dGeometry {
  return geometry('maxPool2d', 'x', xShape, opts);
}

// ---- CPU reference ----

/** Index in x of the first maximum of window (oh, ow) of plane n·C + c; padding cells are skipped. */
export function windowArgmax(g: Pool2dGeometry, x: Floats, plane: number, oh: number, ow: number): number {
  let best = -1;
  for (let r = 0; r < g.size; r++) {
    const ih = oh * g.stride + r - g.padTop;
    if (ih < 0 || ih >= g.H) continue;
    for (let s = 0; s < g.size; s++) {
      const iw = ow * g.stride + s - g.padLeft;
      if (iw < 0 || iw >= g.W) continue;
      const i = (plane * g.H + ih) * g.W + iw;
      if (best < 0 || x[i] > x[best]) best = i;
    }
  }
  return best;
}

export function maxPool2dRef(g: Pool2dGeometry, x: Floats, y: Floats): void {
  let o = 0;
  for (let plane = 0; plane < g.N * g.C; plane++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) y[o++] = x[windowArgmax(g, x, plane, oh, ow)];
    }
  }
}

/** dx = 0, then each dy is added at its window's argmax (overlapping windows may add several). */
export function maxPool2dBackwardRef(g: Pool2dGeometry, x: Floats, dy: Floats, dx: Floats): void {
  dx.fill(0);
  let o = 0;
  for (let plane = 0; plane < g.N * g.C; plane++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) dx[windowArgmax(g, x, plane, oh, ow)] += dy[o++];
    }
  }
}

// ---- WebGPU ----

const FORWARD: Kernel = { key: 'maxpool2d.forward', code: maxpoolWgsl, entry: 'forward', bindings: ['read', 'write'] };
const BACKWARD: Kernel = { key: 'maxpool2d.backward', code: maxpoolWgsl, entry: 'backward', bindings: ['read', 'read', 'write'] };

function params(g: Pool2dGeometry): Uint8Array {
  return packParams([g.N, g.C, g.H, g.W, g.size, g.stride, g.OH, g.OW, g.padTop, g.padLeft].map(u32));
}

const FORWARD_2X2: Kernel = { key: 'maxpool2d.forward2x2', code: maxpoolWgsl, entry: 'forward2x2', bindings: ['read', 'write'] };
const BACKWARD_TILES: Kernel = { key: 'maxpool2d.backwardTiles', code: maxpoolWgsl, entry: 'backward_tiles', bindings: ['read', 'read', 'write'] };
const BACKWARD_2X2: Kernel = { key: 'maxpool2d.backward2x2', code: maxpoolWgsl, entry: 'backward2x2', bindings: ['read', 'read', 'write'] };

/** Which max-pool kernels a geometry takes on WebGPU (`maxPool2dGpu`, `maxPool2dBackwardGpu`). */
export type MaxPoolPath = '2x2' | 'tiles' | 'per-input';

/**
 * 2×2 windows at stride 2 without padding take the written-out kernels (forward2x2,
 * backward2x2); other windows that do not overlap (stride ≥ size) one invocation per window that
 * writes its whole tile of dx; overlapping ones one per input element. No atomics in any.
 */
export function maxPoolPath(g: Pool2dGeometry): MaxPoolPath {
  if (tiling2x2(g)) return '2x2';
  return g.stride >= g.size ? 'tiles' : 'per-input';
}

/**
 * `maxPerDim` is lowered only by tests, to force the 2-D grid; `path` is chosen by tests and
 * benchmarks only ('tiles' and 'per-input' both mean the general forward kernel).
 */
export function maxPool2dGpu(g: Pool2dGeometry, x: Tensor, y: Tensor, maxPerDim = 65535, path = maxPoolPath(g)): void {
  checkPath(g, path);
  gpuOf(x).run(path === '2x2' ? FORWARD_2X2 : FORWARD, [x, y], params(g), grid1d(y.size, 256, maxPerDim));
}

export function maxPool2dBackwardGpu(g: Pool2dGeometry, x: Tensor, dy: Tensor, dx: Tensor, maxPerDim = 65535, path = maxPoolPath(g)): void {
  checkPath(g, path);
  const kernel = { '2x2': BACKWARD_2X2, tiles: BACKWARD_TILES, 'per-input': BACKWARD }[path];
  gpuOf(x).run(kernel, [x, dy, dx], params(g), grid1d(path === 'per-input' ? dx.size : dy.size, 256, maxPerDim));
}

function checkPath(g: Pool2dGeometry, path: MaxPoolPath): void {
  if ((path === '2x2' && !tiling2x2(g)) || (path === 'tiles' && g.stride < g.size)) {
    throw new Error(`maxpool2d: the '${path}' kernels do not fit ${g.size}×${g.size} windows at stride ${g.stride} (padding ${g.padTop}, ${g.padLeft})`);
  }
}

/** 2×2 windows at stride 2 with no padding: what elementwise.wat's maxpool2x2 and maxpool2d.wgsl's forward2x2 and backward2x2 compute. */
function tiling2x2(g: Pool2dGeometry): boolean {
  return g.size === 2 && g.stride === 2 && g.padTop === 0 && g.padLeft === 0 && g.OH === g.H >> 1 && g.OW === g.W >> 1;
}

// ---- the ops ----

/** x[N,C,H,W] → y[N,C,OH,OW], the maximum of each window. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions = {}): Tensor {
  checkTensors('maxPool2d', { x });
  const g = geometry('maxPool2d', 'x', x.shape, opts);
  const y = empty([g.N, g.C, g.OH, g.OW], x.backend);
  const spec = (): void => { maxPool2dRef(g, cpuData(x), cpuData(y)); };
  // The WebAssembly kernel covers the tiling 2×2 window of our models; other windows take the specification.
  const wasm = (): void => (tiling2x2(g) ? maxPool2x2Wasm(wasmOf(x), addressOf(x), addressOf(y), g.N * g.C, g.H, g.W, 0, 0) : spec());
  byBackend(x, { cpu: spec, wasm, webgpu: () => { maxPool2dGpu(g, x, y); } });
  return y;
}

/** dx[N,C,H,W] from the forward input x and dy[N,C,OH,OW]: each dy goes to its window's first maximum. */
export function maxPool2dBackward(x: Tensor, dy: Tensor, opts: Pool2dOptions = {}): Tensor {
  const op = 'maxPool2dBackward';
  checkTensors(op, { x, dy });
  const g = geometry(op, 'x', x.shape, opts);
  checkShape(op, 'dy', dy, [g.N, g.C, g.OH, g.OW], 'like the forward output');
  const dx = empty(x.shape, x.backend);
  const spec = (): void => { maxPool2dBackwardRef(g, cpuData(x), cpuData(dy), cpuData(dx)); };
  const wasm = (): void => (tiling2x2(g) ? maxPool2x2Wasm(wasmOf(x), addressOf(x), 0, g.N * g.C, g.H, g.W, addressOf(dy), addressOf(dx)) : spec());
  byBackend(x, { cpu: spec, wasm, webgpu: () => { maxPool2dBackwardGpu(g, x, dy, dx); } });
  return dx;
}
