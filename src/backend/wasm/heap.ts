import { FerError } from '../errors.ts';

const PAGE = 65536;
/**
 * 2 GiB. A 4 GiB maximum (all a 32-bit memory addresses; the kernels read i32 addresses as
 * unsigned) made the Train tab's worker stall in Chromium, so the limit stays at 2 GiB; the seed
 * network's batch-64 training step does not fit in it (bench/CPU.md's row was measured at 4 GiB).
 */
export const MAX_PAGES = 32768;
const ALIGN = 64;

/**
 * Blocks of one shared WebAssembly.Memory, for tensors and kernel scratch. A training step
 * allocates the same sizes every step, so freed blocks go to a free list per exact size and
 * are handed out again; new sizes come from the top, growing the memory. Address 0 is never
 * handed out: the kernels read it as "absent" (no bias, no scale).
 */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  #top = ALIGN;
  #free = new Map<number, number[]>();
  /** Bytes handed out and not freed, for tests and error messages. */
  inUse = 0;

  /** Shared memory never detaches its buffer on growth; an unshared one does (views must be remade). */
  readonly shared: boolean;

  constructor(shared = true, initialPages = 256) {
    this.shared = shared;
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared });
  }

  /** A block of at least `bytes` (rounded up to 64), its byte address. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const list = this.#free.get(size);
    const reused = list?.pop();
    this.inUse += size;
    if (reused !== undefined) return reused;
    const at = this.#top;
    const end = at + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        this.inUse -= size;
        throw new FerError(
          `wasm: out of WebAssembly memory: ${mb(size)} more wanted with ${mb(this.inUse)} in use (limit ${mb(MAX_PAGES * PAGE)}); use a smaller --batch`,
        );
      }
      this.memory.grow(Math.max(pages, Math.min(MAX_PAGES - have / PAGE, have / PAGE / 4)));
    }
    this.#top = end;
    return at;
  }

  free(at: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.inUse -= size;
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, (list = []));
    list.push(at);
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;
}
