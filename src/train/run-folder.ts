import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { keep } from '../backend/scope.ts';
import type { BackendName } from '../backend/tensor.ts';
import { modelFromBytes, modelToBytes } from '../nn/model-file.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../nn/safetensors.ts';
import type { Sequential } from '../nn/sequential.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { Optimizer } from './optimizer.ts';
import type { RunState, TrainSettings } from './run-state.ts';

const OPT_PREFIX = 'optimizer/';

/**
 * A training run's folder:
 *   checkpoint.safetensors  weights + optimizer state + run state: everything --resume needs,
 *                           in ONE file so that a checkpoint is never half old, half new
 *   model.safetensors       the latest weights alone (a model file for eval/predict)
 *   best.safetensors        the weights of the epoch with the lowest validation loss
 *   log.json                one record per finished epoch
 * Every file is written atomically (temporary file, fsync, rename).
 */
export class RunFolder {
  constructor(readonly dir: string) {}

  static create(dir: string): RunFolder {
    mkdirSync(dir, { recursive: true });
    return new RunFolder(dir);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  hasCheckpoint(): boolean {
    return existsSync(this.path('checkpoint.safetensors'));
  }

  async saveCheckpoint(model: Sequential, optimizer: Optimizer, state: RunState): Promise<void> {
    const meta = { run_state: JSON.stringify(state), optimizer_step: String(optimizer.step) };
    const weights = await modelToBytes(model, meta);
    const { tensors, metadata } = decodeSafetensors(weights, 'checkpoint');
    for (const [name, t] of optimizer.state) tensors.set(OPT_PREFIX + name, { shape: [...t.shape], data: await t.read() });
    writeFileAtomic(this.path('checkpoint.safetensors'), encodeSafetensors(tensors, metadata));
    writeFileAtomic(this.path('model.safetensors'), await modelToBytes(model, trainingMetadata(state)));
    writeFileAtomic(this.path('log.json'), `${JSON.stringify(state.log, null, 2)}\n`);
  }

  async saveBest(model: Sequential, state: RunState): Promise<void> {
    writeFileAtomic(this.path('best.safetensors'), await modelToBytes(model, trainingMetadata(state)));
  }

  /** Restores model, optimizer and run state from checkpoint.safetensors. */
  loadCheckpoint(backend: BackendName): { model: Sequential; optimizer: Optimizer; state: RunState } {
    const file = this.path('checkpoint.safetensors');
    if (!existsSync(file)) throw new FerError(`${this.dir}: no checkpoint.safetensors to resume from`);
    const bytes = new Uint8Array(readFileSync(file));
    const { tensors, metadata } = decodeSafetensors(bytes, file);
    let state: RunState;
    try {
      state = JSON.parse(metadata.run_state);
    } catch {
      throw new FerError(`${file}: the run_state metadata is missing or not JSON`);
    }
    const weights = new Map<string, NamedTensor>([...tensors].filter(([k]) => !k.startsWith(OPT_PREFIX)));
    const { model } = modelFromBytes(encodeSafetensors(weights, metadata), file, backend);
    const optimizer = new Optimizer(state.settings.optimizer);
    optimizer.config.lr = state.schedule.lr; // where the schedule had got to, as when it was saved
    optimizer.step = Number(metadata.optimizer_step ?? 0);
    for (const [k, t] of tensors) {
      if (k.startsWith(OPT_PREFIX)) optimizer.state.set(k.slice(OPT_PREFIX.length), keep(tensor(t.data, t.shape, backend)));
    }
    return { model, optimizer, state };
  }
}

/** How the lr moved during a run, in words (the `lr_schedule` metadata). */
function lrScheduleText(s: TrainSettings): string {
  const peak = s.lrSchedule?.peakLr ?? s.optimizer.lr;
  if (s.lrSchedule?.kind === 'cosine') {
    return `cosine: linear warm-up to ${peak} over ${s.lrSchedule.warmupEpochs} epoch(s), then cosine decay towards 0 at epoch ${s.epochs}, set every step`;
  }
  if (s.plateau) return `plateau: from ${peak}, ×${s.plateau.factor} after ${s.plateau.patience} epoch(s) without a better validation loss, not below ${s.plateau.minLr}`;
  return `constant ${peak}`;
}

/** What a model file says about how it was made. */
export function trainingMetadata(state: RunState): Record<string, string> {
  const last = state.log[state.log.length - 1];
  const s = state.settings;
  // The configured (peak) lr: runs saved before the optimizer copied its settings had the last
  // step's lr written over settings.optimizer.lr, but a cosine schedule kept its peak apart.
  const lr = s.lrSchedule?.peakLr ?? s.optimizer.lr;
  // The lr the last step used. At an epoch's end that is the epoch record's: a plateau cut made
  // after the epoch is already in state.schedule.lr, but only the next step will use it.
  const lastStepLr = state.step === 0 ? null : state.batch === 0 && last ? last.lr : state.schedule.lr;
  return {
    trained_with: 'fer-webgpu',
    // The data file's name, not where it lay on the training machine (a shipped model's
    // metadata is shown in the demo and in predict --json).
    data: s.dataPath === null ? s.data : basename(s.dataPath),
    epochs: String(state.log.length),
    optimizer: `${s.optimizer.kind} lr ${lr}`,
    lr_schedule: lrScheduleText(s),
    ...(lastStepLr === null ? {} : { last_step_lr: String(lastStepLr) }),
    batch_size: String(s.batchSize),
    augment: String(s.augment !== null),
    seed: String(s.seed),
    // What eval and predict average by default (nn/test-time.ts): the mode the run was tuned with.
    test_time: s.testTime ?? 'none',
    // Every training setting, to reproduce the run (the data is named above, without its path).
    settings: JSON.stringify({ ...s, optimizer: { ...s.optimizer, lr }, data: undefined, dataPath: undefined }),
    ...(last ? { val_accuracy: String(last.valAccuracy ?? ''), val_loss: String(last.valLoss ?? '') } : {}),
  };
}
