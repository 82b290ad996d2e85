import type { Shape } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import type { Layer, LayerConfig } from '../nn/layer.ts';
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

/**
 * The WGSL files of the layer's inference dispatches at batch 1 (from its kernel plan,
 * Layer.kernels) and the layer's sentence, with how the GEMM loop runs on `gpu` where it has one.
 */
function kernelsOf(layer: Layer, input: Shape, gpu: WebGpuBackend | null): { kernels: string[]; how: string } {
  const files: string[] = [];
  const loops: string[] = [];
  for (const k of layer.kernels([1, ...input])) {
    if (!k.inference) continue;
    const s = k.shaders(gpu);
    for (const f of s.files) if (!files.includes(f)) files.push(f);
    if (s.loop && !loops.includes(s.loop)) loops.push(s.loop);
  }
  const how = layer.how();
  if (loops.length === 0) return { kernels: files, how };
  // The layer's sentence may end in a clause about its epilogue; the loop goes before it.
  const [main, ...rest] = how.split('; ');
  return { kernels: files, how: [`${main}, ${loops.join(', ')}`, ...rest].join('; ') };
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
    ...kernelsOf(l, model.shapes[i], gpu),
  }));
}
