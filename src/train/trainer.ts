import { tensor } from '../backend/create.ts';
import { mixSeed, Random } from '../backend/random.ts';
import { keep } from '../backend/scope.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Sequential } from '../nn/sequential.ts';
import { assembleBatch } from '../data/batches.ts';
import { evaluate } from './evaluate.ts';
import { optimizeBatch } from './step.ts';
import type { Optimizer } from './optimizer.ts';
import type { RunFolder } from './run-folder.ts';
import type { EpochRecord, RunState } from './run-state.ts';
import { afterEpoch, cosineLr, type ScheduleDecision } from './schedule.ts';

/** "1 epoch", "3 epochs". */
const epochs = (n: number | null) => `${n} epoch${n === 1 ? '' : 's'}`;

export type TrainOutcome = 'finished' | 'early-stopped' | 'interrupted' | 'diverged';

export interface StepInfo {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface TrainHooks {
  onStep?(s: StepInfo): void;
  onEvaluating?(done: number, total: number): void;
  onEpoch?(record: EpochRecord, decision: ScheduleDecision): void;
  /** Polled between steps: true saves a checkpoint and stops (Ctrl-C). */
  interrupted?(): boolean;
}

/** "<param> holds NaN" for the first parameter with a non-finite value, or null. */
async function nonFiniteParam(model: Sequential): Promise<string | null> {
  for (const p of model.params()) {
    const v = await p.value.read();
    const i = v.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) return `${p.name} holds ${v[i]}`;
  }
  return null;
}

/** The order of an epoch's examples: a permutation that depends only on the seed and the epoch. */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  new Random(mixSeed(seed, epoch, 0)).shuffle(order);
  return order;
}

/** Batches per epoch; a last batch of one example is dropped (batch statistics of one value are degenerate). */
export function batchesPerEpoch(count: number, batchSize: number): number {
  const full = Math.floor(count / batchSize);
  return count % batchSize >= 2 ? full + 1 : full;
}

/**
 * Trains from wherever `state` stands until the epochs are done, early stopping fires, the
 * loss stops being finite, or the user interrupts. Every random draw is derived from the run
 * seed and the position (epoch, batch, step), so a resumed run repeats an uninterrupted one.
 */
export async function train(
  run: RunFolder,
  model: Sequential,
  optimizer: Optimizer,
  state: RunState,
  data: { train: Dataset; val: Dataset | null },
  hooks: TrainHooks = {},
): Promise<{ outcome: TrainOutcome; message: string }> {
  const s = state.settings;
  const backend = model.backend;
  const weights = s.classWeights ? keep(tensor(Float32Array.from(s.classWeights), [s.classWeights.length], backend)) : null;
  const B = s.batchSize;
  const position = () => (state.batch === 0 ? `the end of epoch ${state.epoch}` : `epoch ${state.epoch + 1}, batch ${state.batch}`);
  // A resumed run starts from a checkpoint; a fresh one has none until its first save.
  let saved = state.step > 0 ? position() : null;
  const checkpoint = async () => {
    await run.saveCheckpoint(model, optimizer, state);
    saved = position();
  };
  const diverged = (what: string): { outcome: TrainOutcome; message: string } => {
    const last = saved ? `the checkpoint from ${saved} is kept` : 'no checkpoint was written yet';
    return { outcome: 'diverged', message: `${what}: stopped (try a lower --lr); ${last} in ${run.dir}` };
  };
  const batches = batchesPerEpoch(data.train.count, B);
  const side = model.inputShape[model.inputShape.length - 1];
  const cosine = s.lrSchedule?.kind === 'cosine' ? s.lrSchedule : null;
  try {
    while (state.epoch < s.epochs) {
      const order = epochOrder(data.train.count, s.seed, state.epoch);
      const p = state.partial;
      for (let b = state.batch; b < batches; b++) {
        // On the CPU every await below settles at once, so without this the event loop never
        // runs and a Ctrl-C (a signal event) is not seen until training ends.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (hooks.interrupted?.()) {
          const bad = await nonFiniteParam(model);
          if (bad) return diverged(`${bad} at epoch ${state.epoch + 1}, batch ${b}`);
          await checkpoint();
          return { outcome: 'interrupted', message: `interrupted: checkpoint saved at epoch ${state.epoch + 1}, batch ${b}/${batches}` };
        }
        const t0 = performance.now();
        const idx = order.subarray(b * B, Math.min((b + 1) * B, data.train.count));
        const n = idx.length;
        const { x, y } = assembleBatch(data.train, idx, s.augment, new Random(mixSeed(s.seed, state.epoch, b, 1)), undefined, undefined, side);
        if (cosine) state.schedule.lr = cosineLr(cosine.peakLr, state.step, s.epochs * batches, cosine.warmupEpochs * batches);
        optimizer.config.lr = state.schedule.lr;
        const { loss, correct } = await optimizeBatch(model, optimizer, x, y, {
          rng: new Random(mixSeed(s.seed, state.step, 2)),
          weights,
          labelSmoothing: s.labelSmoothing ?? 0,
        });
        if (!Number.isFinite(loss)) return diverged(`loss became ${loss} at epoch ${state.epoch + 1}, batch ${b + 1}`);
        p.lossSum += loss * n;
        p.correct += correct;
        p.seen += n;
        p.seconds += (performance.now() - t0) / 1000;
        state.batch = b + 1;
        state.step++;
        const ips = p.seen / Math.max(p.seconds, 1e-9);
        const remaining = (batches - b - 1) * B + (s.epochs - state.epoch - 1) * batches * B;
        hooks.onStep?.({
          epoch: state.epoch,
          epochs: s.epochs,
          batch: b + 1,
          batches,
          loss: p.lossSum / p.seen,
          accuracy: p.correct / p.seen,
          imagesPerSecond: ips,
          etaSeconds: remaining / ips,
        });
      }

      const tEval = performance.now();
      const val = data.val && data.val.count > 0 ? await evaluate(model, data.val, { onProgress: hooks.onEvaluating }) : null;
      const record: EpochRecord = {
        epoch: state.epoch + 1,
        trainLoss: p.lossSum / Math.max(1, p.seen),
        trainAccuracy: p.correct / Math.max(1, p.seen),
        valLoss: val ? val.loss : null,
        valAccuracy: val ? val.correct / val.count : null,
        lr: state.schedule.lr,
        seconds: p.seconds + (performance.now() - tEval) / 1000,
        imagesPerSecond: p.seen / Math.max(p.seconds, 1e-9),
        backend: String(backend),
      };
      // The last step may have broken the weights after its loss was taken; a relu can even hide
      // NaN weights from every loss. Either way the last good checkpoint must not be overwritten.
      if (record.valLoss !== null && !Number.isFinite(record.valLoss)) return diverged(`validation loss became ${record.valLoss} at epoch ${state.epoch + 1}`);
      const bad = await nonFiniteParam(model);
      if (bad) return diverged(`${bad} at the end of epoch ${state.epoch + 1}`);
      state.log.push(record);
      const decision = afterEpoch(state.schedule, record.epoch, record.valLoss ?? record.trainLoss, s.plateau, s.earlyStop);
      state.epoch++;
      state.batch = 0;
      state.partial = { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
      if (decision.stop) {
        state.finished = true;
        state.stopReason = `early stopping: no better validation loss for ${epochs(s.earlyStop)}`;
      } else if (state.epoch >= s.epochs) {
        state.finished = true;
        state.stopReason = `finished ${epochs(s.epochs)}`;
      }
      if (decision.improved) await run.saveBest(model, state);
      await checkpoint();
      hooks.onEpoch?.(record, decision);
      if (decision.stop) return { outcome: 'early-stopped', message: state.stopReason! };
    }
    state.finished = true;
    return { outcome: 'finished', message: state.stopReason ?? `finished ${epochs(s.epochs)}` };
  } finally {
    weights?.dispose();
  }
}
