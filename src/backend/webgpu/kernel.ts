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

/**
 * Writes out a shader's marked lines: a line ending in `// @unroll q<Q m<TM` stands for one copy
 * per q in 0…Q−1 and m in 0…TM−1 (the first name outermost), with `$q` replaced by q's value and
 * `$(expr)` by the value of an expression of integers, loop names, `+` and `*` (as `$(4*q+1)`).
 * The lines between `// @unroll m<TM {` and `// @unroll }` are written out as a block, once per m
 * (blocks nest). Loop names are single lowercase letters; a bound is an integer or a name in `counts`.
 * WGSL has no macros and SwiftShader does not unroll loops: named values written out one by one
 * are how a kernel keeps a block of results in registers (an indexed private array lives in memory).
 */
export function unrollLines(code: string, counts: Record<string, number>): string {
  const bound = (b: string): number => {
    const v = /^\d+$/.test(b) ? Number(b) : counts[b];
    if (v === undefined || !Number.isInteger(v) || v < 0) throw new Error(`unrollLines: no count for "${b}"`);
    return v;
  };
  const loopsOf = (spec: string): [string, number][] => spec.trim().split(/\s+/).map((l) => [l[0], bound(l.slice(2))]);
  // Every assignment of the loop names, the first outermost.
  const each = (loops: [string, number][], env: Env): Env[] =>
    loops.reduce<Env[]>((envs, [name, n]) => envs.flatMap((e) => Array.from({ length: n }, (_, i) => ({ ...e, [name]: i }))), [env]);
  const block = (lines: string[], env: Env): string[] => {
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const open = /^\s*\/\/ @unroll((?:\s+[a-z]<\w+)+)\s*\{\s*$/.exec(lines[i]);
      if (open) {
        let depth = 1;
        let j = i + 1;
        for (; j < lines.length && depth > 0; j++) {
          if (/^\s*\/\/ @unroll\s*\}\s*$/.test(lines[j])) depth--;
          else if (/^\s*\/\/ @unroll.*\{\s*$/.test(lines[j])) depth++;
        }
        if (depth > 0) throw new Error(`unrollLines: no "// @unroll }" closes: ${lines[i].trim()}`);
        const body = lines.slice(i + 1, j - 1);
        for (const e of each(loopsOf(open[1]), env)) out.push(...block(body, e));
        i = j - 1;
        continue;
      }
      const one = /^(.*?)\s*\/\/ @unroll((?:\s+[a-z]<\w+)+)\s*$/.exec(lines[i]);
      if (one) for (const e of each(loopsOf(one[2]), env)) out.push(substitute(one[1], e));
      else out.push(Object.keys(env).length > 0 ? substitute(lines[i], env) : lines[i]);
    }
    return out;
  };
  return block(code.split('\n'), {}).join('\n');
}

type Env = Record<string, number>;

function substitute(line: string, env: Env): string {
  const value = (name: string): number => {
    if (!(name in env)) throw new Error(`unrollLines: "${name}" is not a loop name here: ${line.trim()}`);
    return env[name];
  };
  const evaluate = (expr: string): number =>
    expr.split('+').reduce((sum, term) =>
      sum + term.split('*').reduce((prod, f) => prod * (/^\s*\d+\s*$/.test(f) ? Number(f) : value(f.trim())), 1), 0);
  return line.replace(/\$\(([^)]*)\)/g, (_, e: string) => String(evaluate(e))).replace(/\$([a-z])/g, (_, n: string) => String(value(n)));
}
