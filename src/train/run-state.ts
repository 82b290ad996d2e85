import type { AugmentOptions } from '../data/augment.ts';
import type { OptimizerConfig } from './optimizer.ts';
import { initialSchedule, type CosineOptions, type PlateauOptions, type ScheduleState } from './schedule.ts';

/** How a run was asked to train; stored in its checkpoint so --resume needs nothing else. */
export interface TrainSettings {
  model: string;
  /** A description of the data: the path, or "synthetic (N images, seed S)". */
  data: string;
  /** The path to reload on --resume; null for the built-in synthetic set. */
  dataPath: string | null;
  /** Size of the synthetic set when dataPath is null. */
  syntheticCount: number;
  limit: number | null;
  skipBad: boolean;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  augment: AugmentOptions | null;
  classWeights: number[] | null;
  seed: number;
  plateau: PlateauOptions | null;
  earlyStop: number | null;
  backend: string;
  /** Warm-up then cosine decay of the lr per step; absent or null: the lr changes only on a plateau. */
  lrSchedule?: CosineOptions | null;
  /** Label smoothing ε of the loss (absent: 0). */
  labelSmoothing?: number;
  /** Side of the square crops the model reads (absent: 48, whole images). */
  crop?: number;
  /** Test-time averaging the model is meant to be evaluated with, recorded in its model files. */
  testTime?: 'none' | 'flip' | 'ten-crop';
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
  backend: string;
}

/** Where a run stands: enough to continue it exactly. */
export interface RunState {
  version: 1;
  settings: TrainSettings;
  /** The epoch in progress (0-based) and the next batch in it. */
  epoch: number;
  batch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Running sums of the epoch in progress. */
  partial: { lossSum: number; correct: number; seen: number; seconds: number };
  schedule: ScheduleState;
  log: EpochRecord[];
  finished: boolean;
  stopReason: string | null;
}

/** The state of a run that has not taken a step yet. */
export function newRunState(settings: TrainSettings): RunState {
  return {
    version: 1,
    settings,
    epoch: 0,
    batch: 0,
    step: 0,
    partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
    schedule: initialSchedule(settings.optimizer.lr),
    log: [],
    finished: false,
    stopReason: null,
  };
}
