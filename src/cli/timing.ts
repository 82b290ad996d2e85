// How `fer kernels` and the scripts in bench/ time a kernel: one harness for all of them.
//
// A call records work (on the GPU: into the command encoder) and `sync` waits until the device
// has finished it. One warm-up call compiles pipelines and fills caches and is not counted; one
// probe call (not counted either; a warm-up that is already slow stands in for it) says how long
// a call takes, which sets how many calls go in each timed batch; then each batch runs `repeat`
// calls and syncs once, and the result is the median over batches of the time per call.
// Syncing once per batch keeps the GPU's queue full, as in training, instead of timing the
// round trip of every call.

import { loadavg } from 'node:os';

export interface TimingPlan {
  /** Calls per timed batch. */
  repeat: number;
  /** Timed batches; the median is taken over them. */
  batches: number;
}

export interface Timing extends TimingPlan {
  /** Median milliseconds per call. */
  ms: number;
  /** Milliseconds per call in each batch, in the order run. */
  samples: number[];
  /** The uncounted first call, pipeline compilation included. */
  warmupMs: number;
}

export interface TimeOptions {
  /** Calls per batch wanted (fewer when calls are slow, see planTiming). */
  repeat: number;
  /** Seconds of timed calls to aim for per kernel. */
  budgetSeconds: number;
  /** Waits until the device has finished (a no-op on the CPU). */
  sync: () => Promise<void>;
  /** Runs after each timed batch, outside its time (bench/peak.ts times the peak kernel there). */
  afterBatch?: () => Promise<void>;
}

export const MIN_BATCHES = 3;
export const MAX_BATCHES = 7;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Batches and calls per batch for a kernel whose call takes about `callMs`: as many batches as
 * fit the budget (3 to 7), each of `repeat` calls or as few as keep it in budget (at least 1).
 * A kernel slower than budget/3 still gets 3 single-call batches: a median needs three.
 */
export function planTiming(callMs: number, repeat: number, budgetSeconds: number): TimingPlan {
  const budgetMs = budgetSeconds * 1000;
  const per = Math.max(callMs, 1e-3);
  const r = Math.max(1, Math.min(repeat, Math.floor(budgetMs / (MIN_BATCHES * per))));
  const batches = Math.max(MIN_BATCHES, Math.min(MAX_BATCHES, Math.floor(budgetMs / (r * per))));
  return { repeat: r, batches };
}

/** Times `call` (see the header); `call` must dispose what it makes. */
export async function timeCalls(call: () => void, o: TimeOptions): Promise<Timing> {
  const once = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) call();
    await o.sync();
    return (performance.now() - t0) / n;
  };
  const warmupMs = await once(1);
  // A warm-up that already took a third of the budget needs no probe: the plan is 3 × 1 call.
  const probeMs = warmupMs * MIN_BATCHES >= o.budgetSeconds * 1000 ? warmupMs : await once(1);
  const plan = planTiming(probeMs, o.repeat, o.budgetSeconds);
  const samples: number[] = [];
  for (let b = 0; b < plan.batches; b++) {
    samples.push(await once(plan.repeat));
    await o.afterBatch?.();
  }
  return { ...plan, ms: median(samples), samples, warmupMs };
}

/** The 1-minute load average, printed with every table: other work on the machine slows kernels down. */
export function machineLoad(): number {
  return loadavg()[0];
}
