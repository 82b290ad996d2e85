import { FerError } from './errors.ts';
import { formatShape, type Shape, type Tensor } from './tensor.ts';

/**
 * Argument checks shared by every op. Each failure is one line naming the op, the argument,
 * what it got and what it wanted.
 */
export function checkTensors(op: string, args: Record<string, Tensor | null | undefined>): void {
  let first: [string, Tensor] | null = null;
  for (const [name, t] of Object.entries(args)) {
    if (t === null || t === undefined) continue;
    if (!(t as unknown instanceof Object) || typeof (t as Tensor).dispose !== 'function') {
      throw new FerError(`${op}: ${name} must be a Tensor, got ${typeof t}`);
    }
    if (t.disposed) throw new FerError(`${op}: ${name} ${formatShape(t.shape)} was disposed`);
    if (first === null) first = [name, t];
    else if (t.backend !== first[1].backend) {
      throw new FerError(`${op}: ${name} is on ${t.backend} but ${first[0]} is on ${first[1].backend}`);
    }
  }
}

export function checkRank(op: string, name: string, t: Tensor, rank: number, layout: string): void {
  if (t.shape.length !== rank) {
    throw new FerError(`${op}: ${name} has shape ${formatShape(t.shape)}, wanted rank ${rank} ${layout}`);
  }
}

/** `want` may hold -1 for "any". */
export function checkShape(op: string, name: string, t: Tensor, want: Shape, because = ''): void {
  const ok = t.shape.length === want.length && want.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) {
    const w = `[${want.map((d) => (d === -1 ? '*' : d)).join(',')}]`;
    throw new FerError(`${op}: ${name} has shape ${formatShape(t.shape)}, wanted ${w}${because ? ` ${because}` : ''}`);
  }
}

export function checkPositiveInt(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new FerError(`${op}: ${name} must be a positive integer, got ${v}`);
}
