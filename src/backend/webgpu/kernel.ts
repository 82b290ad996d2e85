/**
 * A compute program and how to call it. Binding 0 is always the kernel's `Params` uniform;
 * bindings 1.. are storage buffers in the order of `bindings` ('read' = read-only input,
 * 'write' = read_write output or in-place state).
 */
export interface Kernel {
  /** Pipeline cache key: the name plus anything that changes the generated code. */
  readonly key: string;
  readonly code: string;
  readonly entry?: string;
  readonly bindings: readonly ('read' | 'write')[];
}

type Field = { type: 'u32' | 'i32' | 'f32'; value: number };
export const u32 = (value: number): Field => ({ type: 'u32', value });
export const i32 = (value: number): Field => ({ type: 'i32', value });
export const f32 = (value: number): Field => ({ type: 'f32', value });

/**
 * Packs a `struct Params` of 4-byte scalars, in declaration order. Uniform buffers are
 * padded to 16 bytes, the struct's alignment rule for a uniform.
 */
export function packParams(fields: readonly Field[]): Uint8Array {
  const bytes = new Uint8Array(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes.buffer);
  fields.forEach(({ type, value }, i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else {
      if (!Number.isInteger(value)) throw new Error(`packParams: field ${i} (${type}) is not an integer: ${value}`);
      if (type === 'u32') {
        if (value < 0 || value > 0xffffffff) throw new Error(`packParams: field ${i} out of u32 range: ${value}`);
        view.setUint32(i * 4, value, true);
      } else view.setInt32(i * 4, value, true);
    }
  });
  return bytes;
}

/**
 * Workgroup counts for `threads` invocations in groups of `workgroupSize`. A dimension holds at
 * most 65535 groups, so big launches spill into y; shaders rebuild the flat index as
 * `gid.x + gid.y * nwg.x * WORKGROUP`.
 */
export function grid1d(threads: number, workgroupSize: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.ceil(threads / workgroupSize);
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** Prepends `const NAME = value;` lines: how a dispatcher sets a shader's tile sizes. */
export function withConstants(code: string, constants: Record<string, number | boolean>): string {
  const lines = Object.entries(constants).map(([k, v]) =>
    typeof v === 'boolean' ? `const ${k} = ${v};` : `const ${k} = ${Number.isInteger(v) ? `${v}u` : v};`,
  );
  return `${lines.join('\n')}\n${code}`;
}
