import type { Shape } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import type { LayerConfig } from '../nn/layer.ts';
import type { Sequential } from '../nn/sequential.ts';
import { gemmEntry, gemmTiles } from '../ops/gemm.ts';
import { matmulPath } from '../ops/matmul.ts';

/** One row of the explorer's layer list, and which WGSL files compute that layer. */
export interface LayerInfo {
  index: number;
  name: string;
  type: string;
  /** One example's shapes (no batch axis). */
  inputShape: Shape;
  outputShape: Shape;
  params: number;
  /** Multiply-adds per example. */
  macs: number;
  config: LayerConfig;
  /** The shader files (names under shaders/) whose kernels run in this layer's forward, in order. */
  kernels: string[];
  /** How this layer's forward runs, in a sentence. */
  how: string;
}

/**
 * Which GEMM core and entry point a product gets on `gpu` (the choice the ops make per adapter).
 * `vec4` says whether this product may take the vec4 core (null: the op never does); without a
 * GPU both cores are named where either may run on some adapter.
 */
function gemmCore(gpu: WebGpuBackend | null, vec4: ((gpu: WebGpuBackend) => boolean) | null): { files: string[]; how: string } {
  if (!gpu) {
    return vec4
      ? { files: ['gemm.wgsl', 'gemm_vec4.wgsl'], how: 'gemm.wgsl (gemm_vec4.wgsl on software adapters) is the tiled loop' }
      : { files: ['gemm.wgsl'], how: 'gemm.wgsl is the tiled loop' };
  }
  if (vec4?.(gpu)) return { files: ['gemm_vec4.wgsl'], how: 'gemm_vec4.wgsl is the loop (register tiles read as vec4: this adapter is a software renderer)' };
  const tiles = gemmTiles(gpu, vec4 ? 'dense' : 'gather');
  return { files: ['gemm.wgsl'], how: `gemm.wgsl's ${gemmEntry(tiles)} entry point is the tiled loop` };
}

function kernelsOf(config: LayerConfig, input: Shape, gpu: WebGpuBackend | null): { kernels: string[]; how: string } {
  const relu = config.activation === 'relu';
  const thenRelu = relu ? '; the relu is applied in the same kernel as each output is stored' : '';
  switch (config.type) {
    case 'Conv2D': {
      const core = gemmCore(gpu, null);
      return {
        kernels: ['conv2d.wgsl', ...core.files],
        how: `an implicit GEMM: conv2d.wgsl says how to read filters and image patches, ${core.how}${thenRelu}`,
      };
    }
    case 'Dense': {
      const units = Number(config.units);
      const core = gemmCore(gpu, (g) => matmulPath(g, 1, units, input[0], { transB: true }) === 'registers+vec4');
      return {
        kernels: ['matmul.wgsl', ...core.files],
        how: `y = x·Wᵀ + b: matmul.wgsl addresses the operands, ${core.how}${thenRelu}`,
      };
    }
    case 'BatchNorm':
      return { kernels: ['batchnorm.wgsl'], how: 'inference: the elementwise apply entry point with the running mean and variance' };
    case 'MaxPool2D':
      return { kernels: ['maxpool2d.wgsl'], how: 'one invocation per output takes the maximum of its window' };
    case 'GlobalAvgPool2D':
      return { kernels: ['global_avg_pool.wgsl'], how: "one invocation per channel of each image adds its plane's values and scales by 1/(H·W)" };
    case 'ReLU':
      return { kernels: ['relu.wgsl'], how: 'elementwise max(x, 0) (folded models do this in the convolution store instead)' };
    case 'Flatten':
      return { kernels: [], how: 'no kernel: the same buffer is read as [N, C·H·W] (a view)' };
    case 'Dropout':
      return { kernels: [], how: 'no kernel at inference: dropout is the identity (dropout.wgsl runs only while training)' };
    default:
      return { kernels: [], how: '' };
  }
}

/** The layer list; `gpu` (null on the CPU) decides which GEMM core the kernel lists name. */
export function describeLayers(model: Sequential, gpu: WebGpuBackend | null): LayerInfo[] {
  const rows = model.summary().rows;
  return model.layers.map((l, i) => ({
    index: i,
    name: l.name,
    type: l.type,
    inputShape: model.shapes[i],
    outputShape: model.shapes[i + 1],
    params: rows[i].params,
    macs: l.macs(model.shapes[i]),
    config: l.config(),
    ...kernelsOf(l.config(), model.shapes[i], gpu),
  }));
}
