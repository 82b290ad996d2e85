import { checkShape, checkTensors } from '../backend/checks.ts';
import { FerError } from '../backend/errors.ts';
import type { Tensor } from '../backend/tensor.ts';

// Argument checks shared by the in-place optimizer updates (sgd.ts, adam.ts).

/**
 * The gradient and state tensors must match the parameter's shape and backend, and no two may
 * share storage: a kernel may not bind one buffer as both read and write, and an update written
 * into its own gradient would be wrong on the CPU too.
 */
export function checkUpdateTensors(op: string, param: Tensor, others: Record<string, Tensor | null>): void {
  checkTensors(op, { param, ...others });
  const seen: [string, Tensor][] = [['param', param]];
  for (const [name, t] of Object.entries(others)) {
    if (!t) continue;
    checkShape(op, name, t, param.shape, 'like param');
    const twin = seen.find(([, u]) => u.storage === t.storage);
    if (twin) throw new FerError(`${op}: ${name} shares storage with ${twin[0]}; they must be distinct tensors`);
    seen.push([name, t]);
  }
}

/** A finite number in [lo, hi) (or [lo, ∞) without hi). */
export function checkRange(op: string, name: string, v: number, lo: number, hi = Infinity): void {
  if (!(Number.isFinite(v) && v >= lo && v < hi)) {
    throw new FerError(`${op}: ${name} must be a finite number in [${lo}, ${hi === Infinity ? '∞' : hi}), got ${v}`);
  }
}
