import convWat from '../../../wasm/conv.wat';
import elementwiseWat from '../../../wasm/elementwise.wat';
import gemmWat from '../../../wasm/gemm.wat';
import packWat from '../../../wasm/pack.wat';
import { FerError } from '../errors.ts';

// The WebAssembly kernels (wasm/*.wat, text a student can read) are assembled when the backend
// starts, with the `wabt` package (the WebAssembly Binary Toolkit's own assembler, compiled to
// WebAssembly), and compiled by the engine: no binary is checked in or fetched.

/** The kernels' exports, as the drivers call them (every argument an i32: sizes or byte addresses). */
export interface WasmKernels {
  gemm(ap: number, bp: number, c: number, M: number, N: number, K: number, ldc: number, acc: number, tmp: number): void;
  gemm_rows(a: number, ars: number, acs: number, b: number, brs: number, c: number, ldc: number, M: number, N: number, K: number): void;
  gemm_rows_t(a: number, ars: number, b: number, bcs: number, c: number, ldc: number, M: number, N: number, K: number): void;
  pack_a(src: number, M: number, K: number, rs: number, cs: number, out: number): void;
  pack_b(src: number, K: number, N: number, rs: number, cs: number, out: number): void;
  finish_cols(c: number, M: number, N: number, bias: number, scale: number, shift: number, relu: number): void;
  pad_copy(x: number, xp: number, planes: number, H: number, W: number, Hp: number, Wp: number, padTop: number, padLeft: number): void;
  pack_b_conv(xp: number, g: number, j0: number, nc: number, k0: number, kc: number, out: number): void;
  pack_a_dy(dy: number, K: number, P: number, j0: number, kc: number, out: number): void;
  pack_bt_conv(xp: number, g: number, j0: number, kc: number, out: number): void;
  store_conv(cs: number, y: number, K: number, P: number, j0: number, nc: number, bias: number, scale: number, shift: number, relu: number): void;
  relu(x: number, y: number, n: number): void;
  relu_backward(y: number, dy: number, dx: number, n: number): void;
  maxpool2x2(x: number, y: number, planes: number, H: number, W: number, dy: number, dx: number): void;
  chan_dot(a: number, b: number, N: number, C: number, S: number, c: number, ca: number, cb: number): number;
  chan_affine(a: number, b: number, out: number, N: number, C: number, S: number, c: number, k1: number, k2: number, cb: number, k3: number): void;
  f32_get(at: number): number;
  f32_set(at: number, v: number): void;
}

export const WAT_SOURCES: Readonly<Record<string, string>> = { 'gemm.wat': gemmWat, 'pack.wat': packWat, 'conv.wat': convWat, 'elementwise.wat': elementwiseWat };

/** A module with one SIMD instruction: does this engine run WebAssembly SIMD? */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Why the WebAssembly backend cannot run here, or null when it can. */
export function wasmUnsupportedReason(): string | null {
  if (typeof WebAssembly === 'undefined') return 'this JavaScript engine has no WebAssembly';
  try {
    if (!WebAssembly.validate(SIMD_PROBE)) return 'this JavaScript engine has no WebAssembly SIMD (f32x4)';
  } catch {
    return 'this JavaScript engine has no WebAssembly SIMD (f32x4)';
  }
  return null;
}

/**
 * The kernels import a shared memory (threads need one). Where SharedArrayBuffer is missing (a
 * page that is not cross-origin isolated) the same text with an unshared memory runs on one thread.
 */
function variant(text: string, shared: boolean): string {
  return shared ? text : text.replace('(memory 1 65536 shared)', '(memory 1 65536)');
}

/** Assembles every kernel file with wabt: name → WebAssembly binary. */
export async function assembleKernels(shared: boolean): Promise<Record<string, Uint8Array>> {
  const { default: initWabt } = await import('wabt');
  const wabt = await initWabt();
  const out: Record<string, Uint8Array> = {};
  for (const [name, text] of Object.entries(WAT_SOURCES)) {
    try {
      const features = { simd: true, threads: true };
      const parsed = wabt.parseWat(name, variant(text, shared), features);
      (parsed.validate as (f: typeof features) => void)(features);
      out[name] = parsed.toBinary({}).buffer;
      parsed.destroy();
    } catch (e) {
      throw new FerError(`wasm: cannot assemble ${name}: ${(e as Error).message.replace(/\s+/g, ' ')}`);
    }
  }
  return out;
}

/**
 * Browser bundles (src/cli/web-bundle.ts) carry the binaries, assembled when the bundle was
 * built (base64, shared and unshared), so a page needs neither wabt nor anything fetched.
 */
declare const FER_WASM_BINARIES: { shared: Record<string, string>; unshared: Record<string, string> } | undefined;

function prebuilt(shared: boolean): Record<string, Uint8Array> | null {
  if (typeof FER_WASM_BINARIES === 'undefined') return null;
  const set = shared ? FER_WASM_BINARIES.shared : FER_WASM_BINARIES.unshared;
  return Object.fromEntries(Object.entries(set).map(([name, b64]) => [name, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]));
}

const compiled = new Map<boolean, Promise<WebAssembly.Module[]>>();

/** Assembles (or decodes) and compiles the kernel modules once per process; the same Module objects go to every worker. */
export function compileKernels(shared = true): Promise<WebAssembly.Module[]> {
  let p = compiled.get(shared);
  if (!p) {
    p = (async () => {
      const binaries = prebuilt(shared) ?? (await assembleKernels(shared));
      return Promise.all(Object.values(binaries).map((bytes) => WebAssembly.compile(bytes as BufferSource)));
    })();
    compiled.set(shared, p);
  }
  return p;
}

/** Instantiates the modules on one shared memory and merges their exports. */
export function instantiate(modules: WebAssembly.Module[], memory: WebAssembly.Memory): WasmKernels {
  const all: Record<string, unknown> = {};
  for (const m of modules) Object.assign(all, new WebAssembly.Instance(m, { env: { memory } }).exports);
  return all as unknown as WasmKernels;
}
