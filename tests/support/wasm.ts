import { initWasm, type WasmBackend } from '../../src/backend/wasm/backend.ts';
import { CI } from './requires.ts';

/**
 * The WebAssembly backend for tests (SIMD kernels on FER_THREADS or all cores), or null where
 * this JavaScript engine lacks SIMD or shared memory: the tests that need it skip with a
 * visible message, and with CI set that is a failure (Node ≥ 20 always has both).
 */
export const wasm: WasmBackend | null = await initWasm().catch((e: Error) => {
  if (CI) throw e;
  console.warn(`\n[skip] WebAssembly tests skipped: ${e.message}\n`);
  return null;
});
