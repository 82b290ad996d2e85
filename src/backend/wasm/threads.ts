import { runJob } from './drivers.ts';
import type { WasmKernels } from './module.ts';

/**
 * Worker threads for the WebAssembly kernels. Every thread instantiates the same compiled
 * modules on the same shared WebAssembly.Memory, so operands are never copied: a job is a
 * dozen i32s (drivers.ts) and each thread computes its part of the product in place.
 *
 * Handshake per job, through a shared Int32Array per worker: the caller writes the job into
 * PARAMS, stores the part numbers and bumps SEQ; the worker wakes, runs its part, copies SEQ
 * into DONE and notifies; the caller, having run part 0 itself, waits for every DONE.
 *
 * Node: worker_threads. A browser: Web Workers made from the same source, but only when the
 * caller is itself a worker, since the caller blocks in Atomics.wait and a page's main thread
 * may not (there the backend runs on one thread), and only in a cross-origin isolated page
 * (SharedArrayBuffer). A new browser worker starts asynchronously, so `create` waits for every
 * worker's "ready" before the first job.
 */
const SEQ = 0, DONE = 1, PART = 2, PARTS = 3, ERR = 4, PARAMS = 8, PARAM_COUNT = 24;

type NodeProcess = { versions?: { node?: string }; env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };

function nodeModule<T>(id: string): T | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node && p.getBuiltinModule ? (p.getBuiltinModule(id) as T) : null;
}

/** True inside a browser's dedicated worker, where Atomics.wait is allowed. */
export function inBrowserWorker(): boolean {
  const g = globalThis as { WorkerGlobalScope?: unknown; importScripts?: unknown; process?: NodeProcess };
  return !g.process?.versions?.node && g.WorkerGlobalScope !== undefined && typeof g.importScripts === 'function';
}

/** What every worker runs once it has `ctl`, `modules` and `memory`: instantiate, say so, serve jobs forever. */
const SERVE = `
  // tsx (esbuild's keepNames) may wrap inner functions in __name(…): give it the identity.
  const __name = (f) => f;
  const runJob = ${runJob.toString()};
  function serve(ctl, modules, memory, ready) {
    const k = {};
    for (const m of modules) Object.assign(k, new WebAssembly.Instance(m, { env: { memory } }).exports);
    ready();
    let seen = 0;
    for (;;) {
      Atomics.wait(ctl, ${SEQ}, seen);
      seen = Atomics.load(ctl, ${SEQ});
      try {
        runJob(k, ctl.slice(${PARAMS}, ${PARAMS + PARAM_COUNT}), ctl[${PART}], ctl[${PARTS}]);
      } catch (e) {
        ctl[${ERR}] = 1;
      }
      Atomics.store(ctl, ${DONE}, seen);
      Atomics.notify(ctl, ${DONE});
    }
  }`;

interface Slot {
  ctl: Int32Array;
}

export class WasmThreads {
  readonly threads: number;
  #slots: Slot[] = [];

  private constructor(threads: number, slots: Slot[]) {
    this.threads = threads;
    this.#slots = slots;
  }

  /** Threads to use: FER_THREADS, else the cores (at most 8); 1 where workers are unavailable. */
  static count(): number {
    const os = nodeModule<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
    if (!os) {
      const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
      return inBrowserWorker() ? Math.max(1, Math.min(cores, 8)) : 1;
    }
    const env = (globalThis as { process?: NodeProcess }).process?.env?.FER_THREADS;
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    return env ? Math.max(1, Math.floor(Number(env)) || 1) : Math.min(cores, 8);
  }

  /** Starts threads − 1 workers (the caller is the first thread) and resolves once each is serving. */
  static async create(threads: number, modules: WebAssembly.Module[], memory: WebAssembly.Memory): Promise<WasmThreads> {
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    type WT = { Worker: new (code: string, opts: object) => { unref(): void; once(ev: string, f: (v: unknown) => void): void } };
    const wt = nodeModule<WT>('node:worker_threads');
    const blobUrl = wt ? null : URL.createObjectURL(new Blob([`${SERVE}\nonmessage = (e) => serve(e.data.ctl, e.data.modules, e.data.memory, () => postMessage('ready'));`], { type: 'text/javascript' }));
    for (let i = 1; i < threads; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(4 * (PARAMS + PARAM_COUNT)));
      slots.push({ ctl });
      if (wt) {
        const source = `${SERVE}\nconst { workerData, parentPort } = require('node:worker_threads');\nserve(workerData.ctl, workerData.modules, workerData.memory, () => parentPort.postMessage('ready'));`;
        const w = new wt.Worker(source, { eval: true, workerData: { ctl, modules, memory } });
        w.unref();
        ready.push(new Promise((resolve, reject) => (w.once('message', () => resolve()), w.once('error', reject))));
      } else {
        const w = new Worker(blobUrl!);
        ready.push(new Promise((resolve, reject) => {
          w.onmessage = () => resolve();
          w.onerror = (e) => reject(new Error(`wasm: a worker thread did not start (${e.message})`));
        }));
        w.postMessage({ ctl, modules, memory });
      }
    }
    await Promise.all(ready);
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    return new WasmThreads(threads, slots);
  }

  /** Runs the job on `parts` threads (≤ threads), part 0 on the calling thread; returns when all are done. */
  run(k: WasmKernels, params: Int32Array, parts = this.threads): void {
    parts = Math.max(1, Math.min(parts, this.threads));
    const jobs: { slot: Slot; seq: number }[] = [];
    for (let i = 1; i < parts; i++) {
      const slot = this.#slots[i - 1];
      const ctl = slot.ctl;
      ctl.set(params, PARAMS);
      ctl[PART] = i;
      ctl[PARTS] = parts;
      ctl[ERR] = 0;
      const seq = Atomics.add(ctl, SEQ, 1) + 1;
      Atomics.notify(ctl, SEQ);
      jobs.push({ slot, seq });
    }
    runJob(k, params, 0, parts);
    let failed = false;
    for (const { slot, seq } of jobs) {
      for (let done = Atomics.load(slot.ctl, DONE); done !== seq; done = Atomics.load(slot.ctl, DONE)) {
        Atomics.wait(slot.ctl, DONE, done);
      }
      failed ||= slot.ctl[ERR] !== 0;
    }
    if (failed) throw new Error('wasm: a worker thread failed its part of a job');
  }
}
