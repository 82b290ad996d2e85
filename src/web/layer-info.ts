import type { Shape } from '../backend/tensor.ts';
import type { LayerConfig } from '../nn/layer.ts';
import type { Sequential } from '../nn/sequential.ts';

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

function kernelsOf(config: LayerConfig): { kernels: string[]; how: string } {
  const relu = config.activation === 'relu';
  switch (config.type) {
    case 'Conv2D':
      return {
        kernels: ['conv2d.wgsl', 'gemm.wgsl', ...(relu ? ['relu.wgsl'] : [])],
        how: `an implicit GEMM: conv2d.wgsl says how to read filters and image patches, gemm.wgsl is the tiled loop${relu ? '; then relu.wgsl' : ''}`,
      };
    case 'Dense':
      return {
        kernels: ['matmul.wgsl', 'gemm.wgsl', ...(relu ? ['relu.wgsl'] : [])],
        how: `y = x·Wᵀ + b: matmul.wgsl addresses the operands, gemm.wgsl is the tiled loop${relu ? '; then relu.wgsl' : ''}`,
      };
    case 'BatchNorm':
      return { kernels: ['batchnorm.wgsl'], how: 'inference: the elementwise apply entry point with the running mean and variance' };
    case 'MaxPool2D':
      return { kernels: ['maxpool2d.wgsl'], how: 'one invocation per output takes the maximum of its window' };
    case 'Flatten':
      return { kernels: [], how: 'no kernel: the same buffer is read as [N, C·H·W] (a view)' };
    case 'Dropout':
      return { kernels: [], how: 'no kernel at inference: dropout is the identity (dropout.wgsl runs only while training)' };
    default:
      return { kernels: [], how: '' };
  }
}

export function describeLayers(model: Sequential): LayerInfo[] {
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
    ...kernelsOf(l.config()),
  }));
}
