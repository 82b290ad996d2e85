import { FerError } from './errors.ts';
import { track } from './scope.ts';

export type Shape = readonly number[];
/**
 * cpu: the plain TypeScript kernels (the specification) on Float32Arrays. wasm: WebAssembly
 * SIMD kernels on threads over one shared memory. webgpu: WGSL kernels on a GPU.
 */
export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/**
 * Where a tensor's numbers live. Reshaped views share one storage, so it counts references
 * and gives its memory back (to the GPU buffer pool, say) when the last view is disposed.
 */
export interface Storage {
  readonly backend: BackendName;
  /** Number of float32 values. */
  readonly length: number;
  refs: number;
  /** A fresh copy of the values. */
  read(): Promise<Float32Array>;
  release(): void;
}

/** Throws unless every dimension is an integer >= 0. */
export function validateShape(shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new FerError(`tensor: bad shape ${formatShape(shape)}: dimensions must be integers >= 0`);
  }
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** A float32 array with a shape (NCHW for images) on one backend. */
export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  #storage: Storage | null;

  constructor(storage: Storage, shape: Shape) {
    validateShape(shape);
    const size = sizeOf(shape);
    if (size !== storage.length) {
      throw new FerError(`tensor: shape ${formatShape(shape)} holds ${size} values but the data has ${storage.length}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.#storage = storage;
    track(this);
  }

  get backend(): BackendName {
    return this.storage.backend;
  }

  get disposed(): boolean {
    return this.#storage === null;
  }

  /** The storage, or a clear error if this tensor was disposed. */
  get storage(): Storage {
    if (this.#storage === null) throw new FerError(`tensor ${formatShape(this.shape)} was disposed and cannot be used`);
    return this.#storage;
  }

  /** The same values under another shape (one dimension may be -1), sharing storage. */
  reshape(shape: Shape): Tensor {
    const storage = this.storage;
    const known = shape.filter((d) => d !== -1);
    const free = shape.length - known.length;
    let resolved = [...shape];
    if (free > 1) throw new FerError(`reshape: at most one -1 allowed, got ${formatShape(shape)}`);
    if (free === 1) {
      const rest = sizeOf(known);
      if (rest === 0 || this.size % rest !== 0) {
        throw new FerError(`reshape: cannot view ${formatShape(this.shape)} as ${formatShape(shape)}`);
      }
      resolved = shape.map((d) => (d === -1 ? this.size / rest : d));
    }
    if (sizeOf(resolved) !== this.size) {
      throw new FerError(`reshape: cannot view ${formatShape(this.shape)} (${this.size} values) as ${formatShape(resolved)}`);
    }
    storage.refs++;
    return new Tensor(storage, resolved);
  }

  /** A copy of the values (downloads from the GPU). */
  read(): Promise<Float32Array> {
    return this.storage.read();
  }

  dispose(): void {
    const s = this.#storage;
    if (s === null) return;
    this.#storage = null;
    if (--s.refs === 0) s.release();
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.disposed ? 'disposed' : this.backend})`;
  }
}
