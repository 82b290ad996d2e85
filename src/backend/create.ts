import { defaultBackend, getBackend } from './backends.ts';
import './cpu.ts';
import { FerError } from './errors.ts';
import { formatShape, sizeOf, Tensor, validateShape, type BackendName, type Shape } from './tensor.ts';

/** A tensor holding a copy of `data`. Only Float32Array (or a plain number array) is accepted: no silent conversions. */
export function tensor(data: Float32Array | readonly number[], shape: Shape, backend: BackendName = defaultBackend()): Tensor {
  if (!(data instanceof Float32Array) && !Array.isArray(data)) {
    const kind = (data as object)?.constructor?.name ?? typeof data;
    throw new FerError(`tensor: expected a Float32Array or number[], got ${kind}`);
  }
  validateShape(shape);
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  if (values.length !== sizeOf(shape)) {
    throw new FerError(`tensor: shape ${formatShape(shape)} needs ${sizeOf(shape)} values, got ${values.length}`);
  }
  return new Tensor(getBackend(backend).upload(values), shape);
}

/** An output tensor whose contents the caller will overwrite completely (NaN-poisoned in tests). */
export function empty(shape: Shape, backend: BackendName): Tensor {
  return new Tensor(getBackend(backend).alloc(sizeOf(shape)), shape);
}

export function full(shape: Shape, value: number, backend: BackendName = defaultBackend()): Tensor {
  return tensor(new Float32Array(sizeOf(shape)).fill(value), shape, backend);
}

export function zeros(shape: Shape, backend: BackendName = defaultBackend()): Tensor {
  return full(shape, 0, backend);
}

/** The same values on another backend (a new tensor; the original stays). */
export async function toBackend(t: Tensor, backend: BackendName): Promise<Tensor> {
  return tensor(await t.read(), t.shape, backend);
}
