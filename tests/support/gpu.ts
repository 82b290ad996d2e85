import { NO_ADAPTER } from '../../src/backend/webgpu/adapter.ts';
import { initWebGpu, type WebGpuBackend } from '../../src/backend/webgpu/backend.ts';
import { CI } from './requires.ts';

/**
 * The WebGPU backend for tests, or null where this machine has no adapter. The tests that need
 * it skip with a visible message then; FER_REQUIRE_GPU=1, or CI set, turns that into a failure.
 */
let opened: Promise<WebGpuBackend | null> | null = null;

export function gpuForTests(): Promise<WebGpuBackend | null> {
  opened ??= initWebGpu().catch((e: Error) => {
    if (process.env.FER_REQUIRE_GPU === '1' || CI) throw e;
    console.warn(`\n[skip] WebGPU tests skipped: ${e.message === NO_ADAPTER ? NO_ADAPTER : e.message}\n`);
    return null;
  });
  return opened;
}

/** The same vitest module-level probe every GPU test file starts with. */
export const gpu = await gpuForTests();
