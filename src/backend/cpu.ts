import { debug, registerBackend, type Backend } from './backends.ts';
import { FerError } from './errors.ts';
import type { Storage, Tensor } from './tensor.ts';

class CpuStorage implements Storage {
  readonly backend = 'cpu';
  refs = 1;
  constructor(public data: Float32Array) {}
  get length(): number {
    return this.data.length;
  }
  read(): Promise<Float32Array> {
    return Promise.resolve(this.data.slice());
  }
  release(): void {
    this.data = new Float32Array(0);
  }
}

export const cpuBackend: Backend = {
  name: 'cpu',
  alloc(length: number): Storage {
    const data = new Float32Array(length);
    if (debug.poison) data.fill(NaN);
    return new CpuStorage(data);
  },
  upload(data: Float32Array): Storage {
    return new CpuStorage(data.slice());
  },
};
registerBackend(cpuBackend);

/** The live Float32Array behind a CPU tensor (no copy): what the CPU kernels read and write. */
export function cpuData(t: Tensor): Float32Array {
  const s = t.storage;
  if (s instanceof CpuStorage) return s.data;
  // A wasm tensor's values are a view of the WebAssembly memory: the specification kernels
  // run on it in place where the wasm backend has no kernel of its own.
  if (s.backend === 'wasm') return (s as Storage & { data: Float32Array }).data;
  throw new FerError(`expected a cpu or wasm tensor, got ${t}`);
}

/** The arrays CPU kernels work on: float32 for tensors, float64 for gradient checks. */
export type Floats = Float32Array | Float64Array;
