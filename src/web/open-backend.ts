import '../backend/cpu.ts';
import { FerError } from '../backend/errors.ts';
import type { BackendName } from '../backend/tensor.ts';
import { NO_ADAPTER } from '../backend/webgpu/adapter.ts';
import { initWebGpu, type WebGpuBackend } from '../backend/webgpu/backend.ts';

export type BackendWish = 'auto' | 'webgpu' | 'cpu';

export interface OpenedBackend {
  backend: BackendName;
  /** The adapter's name on WebGPU; on the CPU, why WebGPU was not used. */
  reason: string;
  gpu: WebGpuBackend | null;
}

/**
 * The backend a page runs on. 'auto' takes WebGPU whenever the browser offers an adapter, even a
 * software one (unlike the CLI, which prefers its CPU backend to SwiftShader): in a page, showing
 * the WGSL kernels at work is the point, and the reason line says when the adapter is software.
 */
export async function openBackend(wish: BackendWish = 'auto'): Promise<OpenedBackend> {
  if (wish !== 'auto' && wish !== 'webgpu' && wish !== 'cpu') {
    throw new FerError(`loadModel: backend must be 'auto', 'webgpu' or 'cpu', got ${JSON.stringify(wish)}`);
  }
  if (wish === 'cpu') return { backend: 'cpu', reason: 'the CPU backend was asked for', gpu: null };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let why: string;
  // In Node, initWebGpu opens Dawn (the `webgpu` package) instead of navigator.gpu.
  const node = typeof process !== 'undefined' && !!process.versions?.node;
  if (!nav?.gpu && !node) why = 'navigator.gpu is not available';
  else {
    try {
      const gpu = await initWebGpu();
      return { backend: 'webgpu', reason: `${gpu.info.name}${gpu.info.software ? ' (a software renderer)' : ''}`, gpu };
    } catch (e) {
      if (!(e instanceof FerError)) throw e;
      why = e.message === NO_ADAPTER ? 'navigator.gpu.requestAdapter() found no adapter' : e.message;
    }
  }
  if (wish === 'webgpu') throw new FerError(`loadModel: backend 'webgpu' asked for, but ${why}`);
  return { backend: 'cpu', reason: why, gpu: null };
}
