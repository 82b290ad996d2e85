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
