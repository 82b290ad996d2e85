import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../src/backend/random.ts';
import { DEFAULT_AUGMENT } from '../../src/data/augment.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { FER_CLASSES } from '../../src/nn/models.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { decodeSafetensors } from '../../src/nn/safetensors.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Optimizer } from '../../src/train/optimizer.ts';
import { RunFolder } from '../../src/train/run-folder.ts';
import { newRunState, type EpochRecord, type RunState, type TrainSettings } from '../../src/train/run-state.ts';
import { train, type TrainHooks, type TrainOutcome } from '../../src/train/trainer.ts';

/**
 * A training run small enough for a unit test: 30 synthetic faces (8 batches of 4, the last
 * one of 2), 14 for validation, and a 48×48 network of every trainable layer type with about
 * 3,500 parameters, so an epoch takes a fraction of a second on the CPU. Augmentation and
 * dropout are on, so resuming must replay their random draws too.
 */
export function tinyNet(): Sequential {
  return new Sequential(
    'tiny',
    [
      new Conv2D({ filters: 4, kernelSize: 3, stride: 2, activation: 'relu' }),
      new BatchNorm({ momentum: 0.9 }),
      new MaxPool2D({ size: 2 }),
      new Flatten(),
      new Dropout(0.2),
      new Dense({ units: 7 }),
    ],
    [1, 48, 48],
    FER_CLASSES,
  );
}

export const tinyData: { train: Dataset; val: Dataset } = {
  train: syntheticFaces({ count: 30, seed: 11 }),
  val: syntheticFaces({ count: 14, seed: 12 }),
};

export function tinySettings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    model: 'tiny',
    data: 'synthetic (test)',
    dataPath: null,
    syntheticCount: 30,
    limit: null,
    skipBad: false,
    epochs: 2,
    batchSize: 4,
    optimizer: { kind: 'adam', lr: 3e-3, momentum: 0, nesterov: false, weightDecay: 1e-3 },
    augment: { ...DEFAULT_AUGMENT },
    classWeights: null,
    seed: 7,
    plateau: { factor: 0.5, patience: 1, minLr: 1e-5 },
    earlyStop: null,
    backend: 'cpu',
    ...overrides,
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fer-${prefix}-`));
}

export interface Session {
  run: RunFolder;
  model: Sequential;
  optimizer: Optimizer;
  state: RunState;
}

/** A fresh run, as `fer train` starts one. */
export function startRun(dir: string, settings: TrainSettings): Session {
  const model = tinyNet().build(new Random(settings.seed), 'cpu');
  const state = newRunState(settings);
  return { run: RunFolder.create(dir), model, optimizer: new Optimizer(settings.optimizer), state };
}

/** A run reloaded from its checkpoint, as `fer train --resume` does. */
export function resumeRun(dir: string, epochs?: number): Session {
  const run = new RunFolder(dir);
  const { model, optimizer, state } = run.loadCheckpoint('cpu');
  if (epochs !== undefined) state.settings.epochs = epochs;
  state.finished = false;
  state.stopReason = null;
  return { run, model, optimizer, state };
}

export async function go(s: Session, hooks: TrainHooks = {}, data: { train: Dataset; val: Dataset | null } = tinyData): Promise<{ outcome: TrainOutcome; message: string }> {
  return train(s.run, s.model, s.optimizer, s.state, data, hooks);
}

/** What must replay exactly: everything in an epoch record but the timings. */
export function curve(log: EpochRecord[]): Omit<EpochRecord, 'seconds' | 'imagesPerSecond'>[] {
  return log.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
}

/** Every tensor of a file (weights, running statistics, optimizer state) as raw bytes. */
export function tensorBytes(file: string): Map<string, Uint8Array> {
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
  return new Map([...tensors].map(([k, t]) => [k, new Uint8Array(t.data.buffer)]));
}
