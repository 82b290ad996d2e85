import { setDefaultBackend } from '../backend/backends.ts';
import '../backend/cpu.ts';
import { FerError } from '../backend/errors.ts';
import type { BackendName } from '../backend/tensor.ts';

/**
 * Opens the backend a command asked for. Without --backend, WebGPU is tried first and the
 * CPU is used, with one line saying why, when there is no adapter or the only adapter is a
 * software renderer (SwiftShader runs our kernels several times slower than the CPU backend).
 * A named backend that cannot be opened is an error.
 */
export async function chooseBackend(flag: string | undefined, say: (line: string) => void = (l) => console.error(l)): Promise<BackendName> {
  if (flag !== undefined && flag !== 'webgpu' && flag !== 'cpu') throw new FerError(`--backend must be webgpu or cpu, got "${flag}"`);
  if (flag === 'cpu') {
    setDefaultBackend('cpu');
    return 'cpu';
  }
  try {
    const { initWebGpu } = await import('../backend/webgpu/backend.ts');
    const gpu = await initWebGpu();
    if (gpu.info.software && flag === undefined) {
      say(`backend: cpu (the only WebGPU adapter, ${gpu.info.name}, is a software renderer and slower than the CPU backend; --backend webgpu uses it anyway)`);
      setDefaultBackend('cpu');
      return 'cpu';
    }
    say(`backend: webgpu on ${gpu.info.name}${gpu.note ? ` (${gpu.note})` : ''}`);
    if (gpu.info.software) say('  note: this adapter is a software renderer: expect it to be slower than --backend cpu');
    setDefaultBackend('webgpu');
    return 'webgpu';
  } catch (e) {
    if (flag === 'webgpu' || !(e instanceof FerError)) throw e;
    say(`backend: cpu (${e.message.replace(/, or use --backend cpu$/, '')})`);
    setDefaultBackend('cpu');
    return 'cpu';
  }
}
