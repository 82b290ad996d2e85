import '../backend/cpu.ts';
import { FerError } from '../backend/errors.ts';
import type { BackendName } from '../backend/tensor.ts';
import { NO_ADAPTER } from '../backend/webgpu/adapter.ts';
import { initWasm } from '../backend/wasm/backend.ts';
import { initWebGpu, type WebGpuBackend } from '../backend/webgpu/backend.ts';

export type BackendWish = 'auto' | 'webgpu' | 'wasm' | 'cpu';

export interface OpenedBackend {
  backend: BackendName;
  /** The adapter's name on WebGPU; on the CPU, why WebGPU was not used. */
  reason: string;
  gpu: WebGpuBackend | null;
}

/**
 * The backend a page runs on. 'auto': WebGPU on a hardware adapter, else the WebAssembly SIMD
 * kernels, else the TypeScript specification ('cpu'), as the CLI chooses; a software adapter
 * (SwiftShader) runs our kernels slower than WebAssembly, so 'webgpu' must be asked for by name
 * there. `reason` says what runs and why.
 */
export async function openBackend(wish: BackendWish = 'auto'): Promise<OpenedBackend> {
  if (wish !== 'auto' && wish !== 'webgpu' && wish !== 'wasm' && wish !== 'cpu') {
    throw new FerError(`loadModel: backend must be 'auto', 'webgpu', 'wasm' or 'cpu', got ${JSON.stringify(wish)}`);
  }
  if (wish === 'cpu') return { backend: 'cpu', reason: 'the TypeScript backend was asked for', gpu: null };
  if (wish === 'wasm') return openWasm('the WebAssembly backend was asked for', true);
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let why: string;
  // In Node, initWebGpu opens Dawn (the `webgpu` package) instead of navigator.gpu.
  const node = typeof process !== 'undefined' && !!process.versions?.node;
  if (!nav?.gpu && !node) why = 'navigator.gpu is not available';
  else {
    try {
      const gpu = await initWebGpu();
      if (wish === 'webgpu' || !gpu.info.software) {
        return { backend: 'webgpu', reason: `${gpu.info.name}${gpu.info.software ? ' (a software renderer)' : ''}`, gpu };
      }
      why = `the only WebGPU adapter, ${gpu.info.name}, is a software renderer (?backend=webgpu uses it anyway)`;
    } catch (e) {
      if (!(e instanceof FerError)) throw e;
      why = e.message === NO_ADAPTER ? 'navigator.gpu.requestAdapter() found no adapter' : e.message;
    }
  }
  if (wish === 'webgpu') throw new FerError(`loadModel: backend 'webgpu' asked for, but ${why}`);
  return openWasm(why, false);
}

/** The WebAssembly backend, or (unless it was asked for by name) the TypeScript one with the reason. */
async function openWasm(why: string, named: boolean): Promise<OpenedBackend> {
  try {
    const be = await initWasm();
    return { backend: 'wasm', reason: `${be.description}; ${why}`, gpu: null };
  } catch (e) {
    if (named || !(e instanceof FerError)) throw e;
    return { backend: 'cpu', reason: `${why}; ${e.message}`, gpu: null };
  }
}
