import type { BackendName, Tensor } from './tensor.ts';

/**
 * One implementation per backend. Ops list theirs in an object of this type, so adding a
 * backend name to BackendName makes `tsc` name every op that lacks it.
 */
export type PerBackend<T> = { readonly [B in BackendName]: T };

/** Runs the implementation for t's backend. */
export function byBackend<R>(t: Tensor, impl: PerBackend<() => R>): R {
  return impl[t.backend]();
}
