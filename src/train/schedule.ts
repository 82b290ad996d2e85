/**
 * Learning-rate reduction on a plateau and early stopping, both watching the validation loss
 * (as Keras's ReduceLROnPlateau and EarlyStopping do). Plain state, so a checkpoint stores it.
 */
export interface PlateauOptions {
  /** New lr = lr·factor after `patience` epochs without improvement. */
  factor: number;
  patience: number;
  minLr: number;
}

export interface ScheduleState {
  lr: number;
  bestLoss: number;
  bestEpoch: number;
  /** Epochs since the best loss, for the lr reduction and for early stopping. */
  sinceLrChange: number;
  sinceBest: number;
}

export function initialSchedule(lr: number): ScheduleState {
  return { lr, bestLoss: Number.POSITIVE_INFINITY, bestEpoch: -1, sinceLrChange: 0, sinceBest: 0 };
}

/** Keras's default min_delta is 0; a tiny relative margin keeps noise from counting as progress. */
const MIN_IMPROVEMENT = 1e-4;

export interface ScheduleDecision {
  improved: boolean;
  lrReduced: boolean;
  stop: boolean;
}

export function afterEpoch(
  s: ScheduleState,
  epoch: number,
  valLoss: number,
  plateau: PlateauOptions | null,
  earlyStopPatience: number | null,
): ScheduleDecision {
  // bestEpoch, not bestLoss, says whether there is a best yet: Infinity is null after a
  // checkpoint's JSON round trip.
  const improved = s.bestEpoch < 0 || valLoss < s.bestLoss * (1 - MIN_IMPROVEMENT);
  let lrReduced = false;
  if (improved) {
    s.bestLoss = valLoss;
    s.bestEpoch = epoch;
    s.sinceBest = 0;
    s.sinceLrChange = 0;
  } else {
    s.sinceBest++;
    s.sinceLrChange++;
    if (plateau && s.sinceLrChange >= plateau.patience && s.lr > plateau.minLr) {
      s.lr = Math.max(plateau.minLr, s.lr * plateau.factor);
      s.sinceLrChange = 0;
      lrReduced = true;
    }
  }
  const stop = earlyStopPatience !== null && s.sinceBest >= earlyStopPatience;
  return { improved, lrReduced, stop };
}

/**
 * Warm-up then cosine decay, a function of the optimizer step alone (so a resumed run, which
 * restores the step, continues on the same curve): the first `warmupSteps` steps climb linearly
 * to `base` (step s uses base·(s + 1)/warmupSteps), then the rest follow half a cosine from
 * `base` down towards 0 at `totalSteps`, base·½(1 + cos(π·t)) with t the fraction of the decay
 * done. The planned length matters: extending a run with --epochs N stretches the remaining curve.
 */
export interface CosineOptions {
  kind: 'cosine';
  /** Epochs of linear warm-up (whole epochs). */
  warmupEpochs: number;
  /** The lr at the end of warm-up. Kept here: the optimizer's config.lr is overwritten every step. */
  peakLr: number;
}

export function cosineLr(base: number, step: number, totalSteps: number, warmupSteps: number): number {
  if (step < warmupSteps) return (base * (step + 1)) / warmupSteps;
  const decay = Math.max(1, totalSteps - warmupSteps);
  const t = Math.min(1, (step - warmupSteps) / decay);
  return base * 0.5 * (1 + Math.cos(Math.PI * t));
}
