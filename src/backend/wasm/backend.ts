import { debug, registerBackend, type Backend } from '../backends.ts';
import { FerError } from '../errors.ts';
import type { Storage, Tensor } from '../tensor.ts';
import { runJob } from './drivers.ts';
import { WasmHeap } from './heap.ts';
import { compileKernels, instantiate, wasmUnsupportedReason, type WasmKernels } from './module.ts';
import { inBrowserWorker, WasmThreads } from './threads.ts';

/**
 * A tensor's block of the shared WebAssembly memory. The Float32Array view over it is what
 * TypeScript code reads and writes (the specification kernels run on it unchanged) and its
 * byte address is what the WebAssembly kernels take: nothing is copied between the two.
 * Shared memory never detaches its buffer when it grows, so the view stays valid.
 */
export class WasmStorage implements Storage {
  readonly backend = 'wasm';
  refs = 1;
  #data: Float32Array | null;

  constructor(
    readonly owner: WasmBackend,
    readonly address: number,
    readonly length: number,
  ) {
    this.#data = owner.heap.f32(address, length);
  }

  get data(): Float32Array {
    if (!this.#data) throw new FerError('wasm storage used after release');
    // An unshared memory replaces its buffer when it grows: remake the view then.
    if (this.#data.buffer !== this.owner.heap.memory.buffer) this.#data = this.owner.heap.f32(this.address, this.length);
    return this.#data;
  }

  read(): Promise<Float32Array> {
    return Promise.resolve(this.data.slice());
  }

  release(): void {
    if (!this.#data) return;
    this.#data = null;
    this.owner.heap.free(this.address, 4 * this.length);
  }
}

/** The WebAssembly backend: one shared memory, the assembled kernels, and worker threads. */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly heap: WasmHeap;
  readonly kernels: WasmKernels;
  readonly threads: WasmThreads | null;
  /** One line for the user: SIMD, thread count, and why not more. */
  readonly description: string;

  constructor(modules: WebAssembly.Module[], heap: WasmHeap, threads: WasmThreads | null, note: string) {
    this.heap = heap;
    this.kernels = instantiate(modules, this.heap.memory);
    this.threads = threads;
    const n = threads?.threads ?? 1;
    this.description = `WebAssembly SIMD, ${n} thread${n === 1 ? '' : 's'}${note ? ` (${note})` : ''}`;
  }

  /** At most this many threads take part in a job (tests and benchmarks lower it to compare). */
  maxThreads = Number.POSITIVE_INFINITY;

  get threadCount(): number {
    return Math.min(this.maxThreads, this.threads?.threads ?? 1);
  }

  alloc(length: number): Storage {
    const s = new WasmStorage(this, this.heap.alloc(4 * length), length);
    if (debug.poison) s.data.fill(NaN);
    return s;
  }

  upload(data: Float32Array): Storage {
    const s = new WasmStorage(this, this.heap.alloc(4 * data.length), data.length);
    s.data.set(data);
    return s;
  }

  /** Runs a job (drivers.ts) split into `parts`, on the worker threads when there are any and it pays. */
  run(p: Int32Array, parts: number): void {
    if (this.threads && parts > 1) this.threads.run(this.kernels, p, parts);
    else runJob(this.kernels, p, 0, 1);
  }

  /** Scratch for a kernel call; give it back with `free`. */
  scratch(bytes: number): number {
    return this.heap.alloc(bytes);
  }

  free(at: number, bytes: number): void {
    this.heap.free(at, bytes);
  }
}

let instance: WasmBackend | null = null;
let starting: Promise<WasmBackend> | null = null;

/**
 * Starts the WebAssembly backend (assembles and compiles the kernels, starts the threads) and
 * registers it as 'wasm'. Throws a one-line FerError where SIMD or shared memory is missing.
 * `threads` defaults to FER_THREADS or the cores; where workers are unavailable it is 1.
 */
export function initWasm(opts: { threads?: number } = {}): Promise<WasmBackend> {
  if (instance) return Promise.resolve(instance);
  starting ??= (async () => {
    const why = wasmUnsupportedReason();
    if (why) throw new FerError(`wasm backend unavailable: ${why}`);
    const shared = typeof SharedArrayBuffer !== 'undefined';
    const modules = await compileKernels(shared);
    // The caller blocks in Atomics.wait while the threads work, which a page's main thread may
    // not do: threads in Node and in a page's workers; one thread on a page's main thread (and
    // without shared memory anywhere).
    const node = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
    const canThread = shared && (node || inBrowserWorker());
    const threads = canThread ? (opts.threads ?? WasmThreads.count()) : 1;
    const note = canThread ? '' : !shared ? 'no SharedArrayBuffer: the page is not cross-origin isolated' : 'the main thread of a page cannot wait for threads; a worker gets them';
    const heap = new WasmHeap(shared);
    const pool = threads > 1 ? await WasmThreads.create(threads, modules, heap.memory) : null;
    instance = new WasmBackend(modules, heap, pool, note);
    registerBackend(instance);
    return instance;
  })();
  return starting;
}

function wasmStorage(t: Tensor): WasmStorage {
  const s = t.storage;
  if (!(s instanceof WasmStorage)) throw new FerError(`expected a wasm tensor, got ${t}`);
  return s;
}

/** The started WebAssembly backend, for ops given a wasm tensor. */
export function wasmOf(t: Tensor): WasmBackend {
  return wasmStorage(t).owner;
}

/** The byte address of a wasm tensor's values, as the kernels take it. */
export function addressOf(t: Tensor): number {
  return wasmStorage(t).address;
}
