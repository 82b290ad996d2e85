import type { Tensor } from './tensor.ts';

/**
 * Scopes dispose what was made inside them: `scope(() => ...)` tracks every tensor
 * created while it runs and disposes all of them except those in its result and those
 * passed to keep(). Nested scopes hand kept tensors up to the enclosing scope.
 */
const frames: Set<Tensor>[] = [];

export function track(t: Tensor): void {
  frames[frames.length - 1]?.add(t);
}

/** Exempt a tensor from the enclosing scopes (parameters, optimizer state). */
export function keep<T extends Tensor>(t: T): T {
  for (const f of frames) f.delete(t);
  return t;
}

function collect(value: unknown, out: Set<unknown>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  out.add(value);
  if (value instanceof Map) value.forEach((v) => collect(v, out, seen));
  else if (Array.isArray(value)) value.forEach((v) => collect(v, out, seen));
  else if (Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach((v) => collect(v, out, seen));
}

export function scope<T>(fn: () => T): T {
  const frame = new Set<Tensor>();
  frames.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    frames.pop();
    for (const t of frame) t.dispose();
    throw e;
  }
  frames.pop();
  if (result instanceof Promise) throw new Error('scope(): the function must be synchronous');
  const returned = new Set<unknown>();
  collect(result, returned);
  const parent = frames[frames.length - 1];
  for (const t of frame) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}
