import { FerError } from './errors.ts';
import type { BackendName, Storage } from './tensor.ts';

/** What a backend must do for tensors; the ops themselves live in src/ops. */
export interface Backend {
  readonly name: BackendName;
  /** Storage for an op's output. With `debug.poison` on it is filled with NaN, so an unwritten element shows. */
  alloc(length: number): Storage;
  upload(data: Float32Array): Storage;
}

/** Test switches. */
export const debug = {
  /** Fill every newly allocated output with NaN before a kernel writes it. */
  poison: false,
};

const registered = new Map<BackendName, Backend>();
let current: BackendName = 'cpu';

export function registerBackend(b: Backend): void {
  registered.set(b.name, b);
}

export function getBackend(name: BackendName): Backend {
  const b = registered.get(name);
  if (!b) throw new FerError(`backend '${name}' is not initialized${name === 'webgpu' ? ': await initWebGpu() first' : ''}`);
  return b;
}

export function hasBackend(name: BackendName): boolean {
  return registered.has(name);
}

export function setDefaultBackend(name: BackendName): void {
  getBackend(name);
  current = name;
}

export function defaultBackend(): BackendName {
  return current;
}
