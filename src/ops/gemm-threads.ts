/**
 * Worker threads for the CPU GEMM (Node only; elsewhere everything runs on the calling
 * thread). The calling thread and each worker compute disjoint bands of rows of C from the same
 * packed operands, which live in SharedArrayBuffers, so nothing is copied between threads.
 * Each band is computed by the very same function as on one thread, so the result is bit for
 * bit the same whatever the thread count.
 *
 * Handshake per product, through a shared Int32Array per worker:
 *   the caller writes the job (sizes, row band) and bumps JOB; the worker wakes, computes,
 *   copies JOB into DONE and notifies; the caller, having done its own band, waits for DONE.
 * New, larger scratch buffers are posted on a MessagePort and fetched synchronously with
 * receiveMessageOnPort, because a worker parked in Atomics.wait cannot run message handlers.
 */

export type RowKernel = (
  a: Float32Array, b: Float32Array, c: Float32Array,
  M: number, N: number, K: number, m0: number, m1: number, cOffset: number, accumulate: boolean,
) => void;

const JOB = 0, DONE = 1, M_ = 2, N_ = 3, K_ = 4, M0 = 5, M1 = 6, ACC = 7, GEN = 8;

interface WorkerSlot {
  ctl: Int32Array;
  port: { postMessage(m: unknown): void };
}

type NodeProcess = { versions?: { node?: string }; env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown };

function nodeModule<T>(id: string): T | null {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node && p.getBuiltinModule ? (p.getBuiltinModule(id) as T) : null;
}

export class RowThreads {
  readonly threads: number;
  #slots: WorkerSlot[] = [];
  #gen = 0;
  a: Float32Array<ArrayBufferLike> = new Float32Array(0);
  b: Float32Array<ArrayBufferLike> = new Float32Array(0);
  c: Float32Array<ArrayBufferLike> = new Float32Array(0);

  private constructor(threads: number, private readonly kernel: RowKernel) {
    this.threads = threads;
    type WT = {
      Worker: new (code: string, opts: object) => { unref(): void };
      MessageChannel: new () => { port1: WorkerSlot['port']; port2: unknown };
    };
    const wt = nodeModule<WT>('node:worker_threads')!;
    const source = `
      const { workerData, receiveMessageOnPort } = require('node:worker_threads');
      const kernel = ${kernel.toString()};
      const { ctl, port } = workerData;
      let a, b, c, gen = -1, seen = 0;
      for (;;) {
        Atomics.wait(ctl, ${JOB}, seen);
        seen = Atomics.load(ctl, ${JOB});
        if (ctl[${GEN}] !== gen) {
          let msg;
          while (!(msg = receiveMessageOnPort(port))) {}
          ({ a, b, c } = msg.message);
          gen = ctl[${GEN}];
        }
        kernel(a, b, c, ctl[${M_}], ctl[${N_}], ctl[${K_}], ctl[${M0}], ctl[${M1}], 0, ctl[${ACC}] === 1);
        Atomics.store(ctl, ${DONE}, seen);
        Atomics.notify(ctl, ${DONE});
      }`;
    for (let i = 1; i < threads; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(16 * 4));
      const { port1, port2 } = new wt.MessageChannel();
      const w = new wt.Worker(source, { eval: true, workerData: { ctl, port: port2 }, transferList: [port2] });
      w.unref();
      this.#slots.push({ ctl, port: port1 });
    }
  }

  /** The shared pool, or null where threads are unavailable or FER_THREADS=1. */
  static create(kernel: RowKernel): RowThreads | null {
    const os = nodeModule<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
    if (!os || typeof SharedArrayBuffer === 'undefined') return null;
    const env = (globalThis as { process?: NodeProcess }).process?.env?.FER_THREADS;
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    const n = env ? Math.max(1, Math.floor(Number(env)) || 1) : Math.min(cores, 8);
    return n > 1 ? new RowThreads(n, kernel) : null;
  }

  /** Shared scratch at least this large for A (M·K), B (N·K) and C (M·N). */
  reserve(aLen: number, bLen: number, cLen: number): void {
    if (this.a.length >= aLen && this.b.length >= bLen && this.c.length >= cLen) return;
    const grow = (cur: Float32Array, n: number) => (cur.length >= n ? cur : new Float32Array(new SharedArrayBuffer(4 * Math.ceil(n * 1.25))));
    this.a = grow(this.a, aLen);
    this.b = grow(this.b, bLen);
    this.c = grow(this.c, cLen);
    this.#gen++;
    for (const s of this.#slots) {
      s.port.postMessage({ a: this.a, b: this.b, c: this.c });
      s.ctl[GEN] = this.#gen;
    }
  }

  /** Computes all M rows of C = A·B into the shared scratch, rows split in bands of 4 across threads. */
  run(M: number, N: number, K: number, accumulate: boolean): void {
    const bands = Math.ceil(M / 4);
    const per = Math.ceil(bands / this.threads);
    const jobs: { slot: WorkerSlot; seq: number }[] = [];
    this.#slots.forEach((slot, i) => {
      const m0 = Math.min(M, (i + 1) * per * 4);
      const m1 = Math.min(M, (i + 2) * per * 4);
      if (m0 >= m1) return;
      const ctl = slot.ctl;
      ctl[M_] = M; ctl[N_] = N; ctl[K_] = K; ctl[M0] = m0; ctl[M1] = m1; ctl[ACC] = accumulate ? 1 : 0;
      const seq = Atomics.add(ctl, JOB, 1) + 1;
      Atomics.notify(ctl, JOB);
      jobs.push({ slot, seq });
    });
    this.kernel(this.a, this.b, this.c, M, N, K, 0, Math.min(M, per * 4), 0, accumulate);
    for (const { slot, seq } of jobs) {
      for (let done = Atomics.load(slot.ctl, DONE); done !== seq; done = Atomics.load(slot.ctl, DONE)) {
        Atomics.wait(slot.ctl, DONE, done);
      }
    }
  }
}
