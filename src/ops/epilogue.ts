import { checkShape } from '../backend/checks.ts';
import type { Floats } from '../backend/cpu.ts';
import { FerError } from '../backend/errors.ts';
import type { Tensor } from '../backend/tensor.ts';

// What conv2d and matmul may do to each output of their matrix product before storing it, per
// output channel c (a conv's filter, a dense layer's unit):
//
//   out = act(acc + bias[c]) · scale[c] + shift[c],   act = relu or identity
//
// Done in the same pass as the product (the GEMM's storeC on WebGPU), it replaces the separate
// relu pass and, with scale = γ/√(var+ε) and shift = β − mean·scale, an inference batch norm that
// follows the activation (see nn/fold.ts), each of which reads and writes the whole activation.

export interface Epilogue {
  /** max(·, 0) after the bias. */
  relu?: boolean;
  /** Then ·scale[c] + shift[c]; both or neither, one value per output channel. */
  scale?: Tensor | null;
  shift?: Tensor | null;
}

/** One-line errors for a malformed epilogue; `channels` outputs channels, `per` says what a channel is. */
export function checkEpilogue(op: string, e: Epilogue, channels: number, per: string): void {
  if (e.relu !== undefined && typeof e.relu !== 'boolean') throw new FerError(`${op}: relu must be true or false, got ${String(e.relu)}`);
  const scale = e.scale ?? null;
  const shift = e.shift ?? null;
  if ((scale === null) !== (shift === null)) {
    throw new FerError(`${op}: got ${scale ? 'scale' : 'shift'} without ${scale ? 'shift' : 'scale'}, wanted both or neither`);
  }
  if (scale) checkShape(op, 'scale', scale, [channels], per);
  if (shift) checkShape(op, 'shift', shift, [channels], per);
}

/** The epilogue's arrays on the CPU. */
export interface EpilogueRef {
  bias: Floats | null;
  relu: boolean;
  scale: Floats | null;
  shift: Floats | null;
}

/** out for the product's value v in channel c: the specification of every storeC that takes an epilogue. */
export function finishRef(v: number, c: number, e: EpilogueRef): number {
  let out = e.bias ? v + e.bias[c] : v;
  if (e.relu) out = out > 0 ? out : 0;
  return e.scale ? out * e.scale[c] + e.shift![c] : out;
}

/** The Params fields that switch the epilogue's steps on (the shaders' hasBias, relu, hasAffine). */
export function epilogueFlags(hasBias: boolean, e: Epilogue): [number, number, number] {
  return [hasBias ? 1 : 0, e.relu ? 1 : 0, e.scale ? 1 : 0];
}
