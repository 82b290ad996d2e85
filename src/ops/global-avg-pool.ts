import gapWgsl from '../../shaders/global_avg_pool.wgsl';
import { checkShape, checkTensors } from '../backend/checks.ts';
import { cpuData, type Floats } from '../backend/cpu.ts';
import { byBackend } from '../backend/dispatch.ts';
import { empty } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { formatShape, type Shape, type Tensor } from '../backend/tensor.ts';
import { gpuOf } from '../backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, type Kernel } from '../backend/webgpu/kernel.ts';

// Global average pooling in NCHW: y[n,c] is the mean of the H×W plane x[n,c,:,:], so a network
// ends in one number per channel instead of flattening a whole feature map into a dense layer.
// Its gradient spreads each dy[n,c] evenly: dx[n,c,h,w] = dy[n,c] / (H·W).

export interface GlobalPoolGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
}

// ---- shapes ----

function geometry(op: string, name: string, xShape: Shape): GlobalPoolGeometry {
  if (xShape.length !== 4 || !xShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new FerError(`${op}: ${name} has shape ${formatShape(xShape)}, wanted rank 4 [N,C,H,W] with positive sizes`);
  }
  const [N, C, H, W] = xShape;
  return { N, C, H, W };
}

/** N, C, H, W of x[N,C,H,W]; a one-line error for any other shape. */
export function globalPoolGeometry(xShape: Shape): GlobalPoolGeometry {
  return geometry('globalAvgPool', 'x', xShape);
}

// ---- CPU reference ----

/** y[n·C + c] = mean of plane n·C + c, its values added in row-major order (the shader's order). */
export function globalAvgPoolRef(g: GlobalPoolGeometry, x: Floats, y: Floats): void {
  const size = g.H * g.W;
  const inv = 1 / size;
  for (let plane = 0; plane < g.N * g.C; plane++) {
    let sum = 0;
    for (let i = plane * size; i < (plane + 1) * size; i++) sum += x[i];
    y[plane] = sum * inv;
  }
}

export function globalAvgPoolBackwardRef(g: GlobalPoolGeometry, dy: Floats, dx: Floats): void {
  const size = g.H * g.W;
  const inv = 1 / size;
  for (let i = 0; i < g.N * g.C * size; i++) dx[i] = dy[Math.floor(i / size)] * inv;
}

// ---- WebGPU ----

const FORWARD: Kernel = { key: 'global_avg_pool.forward', code: gapWgsl, entry: 'forward', bindings: ['read', 'write'] };
const BACKWARD: Kernel = { key: 'global_avg_pool.backward', code: gapWgsl, entry: 'backward', bindings: ['read', 'write'] };

function params(g: GlobalPoolGeometry): Uint8Array {
  return packParams([u32(g.N * g.C), u32(g.H * g.W), f32(1 / (g.H * g.W))]);
}

/** `maxPerDim` is lowered only by tests, to force the 2-D grid. */
export function globalAvgPoolGpu(g: GlobalPoolGeometry, x: Tensor, y: Tensor, maxPerDim = 65535): void {
  gpuOf(x).run(FORWARD, [x, y], params(g), grid1d(g.N * g.C, 256, maxPerDim));
}

export function globalAvgPoolBackwardGpu(g: GlobalPoolGeometry, dy: Tensor, dx: Tensor, maxPerDim = 65535): void {
  gpuOf(dy).run(BACKWARD, [dy, dx], params(g), grid1d(dx.size, 256, maxPerDim));
}

// ---- the ops ----

/** x[N,C,H,W] → y[N,C], the mean of each channel's plane. */
export function globalAvgPool(x: Tensor): Tensor {
  checkTensors('globalAvgPool', { x });
  const g = geometry('globalAvgPool', 'x', x.shape);
  const y = empty([g.N, g.C], x.backend);
  const spec = (): void => { globalAvgPoolRef(g, cpuData(x), cpuData(y)); };
  byBackend(x, { cpu: spec, wasm: spec, webgpu: () => { globalAvgPoolGpu(g, x, y); } });
  return y;
}

/** dx[N,C,H,W] (the forward input's shape) from dy[N,C]: each dy shared evenly by its plane. */
export function globalAvgPoolBackward(dy: Tensor, xShape: Shape): Tensor {
  const op = 'globalAvgPoolBackward';
  checkTensors(op, { dy });
  const g = geometry(op, 'the input shape', xShape);
  checkShape(op, 'dy', dy, [g.N, g.C], 'like the forward output');
  const dx = empty(xShape, dy.backend);
  const spec = (): void => { globalAvgPoolBackwardRef(g, cpuData(dy), cpuData(dx)); };
  byBackend(dy, { cpu: spec, wasm: spec, webgpu: () => { globalAvgPoolBackwardGpu(g, dy, dx); } });
  return dx;
}
