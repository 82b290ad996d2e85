import { setDefaultBackend } from '../backend/backends.ts';
import '../backend/cpu.ts';
import { FerError } from '../backend/errors.ts';
import type { BackendName } from '../backend/tensor.ts';

export const BACKEND_CHOICES = ['webgpu', 'wasm', 'cpu'] as const;

/** The `--backend` flag, as every command that computes declares it. */
export const BACKEND_FLAG = { kind: 'choice', choices: BACKEND_CHOICES, help: '(default: webgpu on a hardware GPU, else wasm, else cpu)' } as const;

/**
 * Opens the backend a command asked for and says which it runs and why. Without --backend:
 * WebGPU on a hardware adapter, else WebAssembly (SIMD kernels on threads), else the plain
 * TypeScript path (`cpu`, the specification). A software WebGPU adapter (SwiftShader) is
 * passed over: it runs our kernels many times slower than the CPU does. A named backend that
 * cannot be opened is an error.
 */
export async function chooseBackend(flag: string | undefined, say: (line: string) => void = (l) => console.error(l)): Promise<BackendName> {
  if (flag !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(flag)) {
    throw new FerError(`--backend must be ${BACKEND_CHOICES.slice(0, -1).join(', ')} or ${BACKEND_CHOICES.at(-1)}, got "${flag}"`);
  }
  if (flag === 'cpu') {
    say('backend: cpu (the TypeScript specification kernels, one thread for most ops)');
    return use('cpu');
  }
  let why = '';
  if (flag === undefined || flag === 'webgpu') {
    try {
      const { initWebGpu } = await import('../backend/webgpu/backend.ts');
      const gpu = await initWebGpu();
      if (!gpu.info.software || flag === 'webgpu') {
        say(`backend: webgpu on ${gpu.info.name}${gpu.note ? ` (${gpu.note})` : ''}`);
        if (gpu.info.software) say('  note: this adapter is a software renderer: expect it to be slower than --backend wasm');
        return use('webgpu');
      }
      why = `the only WebGPU adapter, ${gpu.info.name}, is a software renderer, slower than the CPU; --backend webgpu uses it anyway`;
    } catch (e) {
      if (flag === 'webgpu' || !(e instanceof FerError)) throw e;
      why = e.message.replace(/, or use --backend cpu$/, '');
    }
  }
  try {
    const { initWasm } = await import('../backend/wasm/backend.ts');
    const be = await initWasm();
    say(`backend: wasm, ${be.description}${why ? ` (${why})` : ''}`);
    return use('wasm');
  } catch (e) {
    if (flag === 'wasm' || !(e instanceof FerError)) throw e;
    say(`backend: cpu (${why ? `${why}; ` : ''}${e.message})`);
    return use('cpu');
  }
}

function use(name: BackendName): BackendName {
  setDefaultBackend(name);
  return name;
}
