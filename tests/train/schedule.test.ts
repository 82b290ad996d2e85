import { describe, expect, it } from 'vitest';
import { afterEpoch, cosineLr, initialSchedule, type PlateauOptions } from '../../src/train/schedule.ts';

/** Feeds a sequence of validation losses; returns each epoch's decision and lr after it. */
function run(losses: number[], plateau: PlateauOptions | null, earlyStop: number | null, lr = 0.01) {
  const s = initialSchedule(lr);
  return losses.map((loss, i) => ({ ...afterEpoch(s, i + 1, loss, plateau, earlyStop), lr: s.lr, best: s.bestEpoch }));
}

describe('schedule: learning rate on a plateau (as Keras ReduceLROnPlateau)', () => {
  const plateau = { factor: 0.5, patience: 2, minLr: 1e-3 };

  it('halves the lr after `patience` epochs without a better loss, then counts again from the reduction', () => {
    const r = run([1.0, 1.1, 1.05, 1.2, 1.3, 0.9, 0.95], plateau, null);
    expect(r.map((d) => d.improved)).toEqual([true, false, false, false, false, true, false]);
    expect(r.map((d) => d.lrReduced)).toEqual([false, false, true, false, true, false, false]);
    expect(r.map((d) => d.lr)).toEqual([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.0025]);
    expect(r.map((d) => d.best)).toEqual([1, 1, 1, 1, 1, 6, 6]);
  });

  it('never goes below minLr, and stops reducing once there', () => {
    const r = run([1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], plateau, null);
    expect(r.map((d) => d.lr)).toEqual([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.00125, 0.00125, 0.001, 0.001, 0.001]);
    expect(r.filter((d) => d.lrReduced)).toHaveLength(4);
  });

  it('an improvement smaller than 1e-4 of the best loss does not count', () => {
    const r = run([1.0, 0.99995, 0.9998], { factor: 0.1, patience: 1, minLr: 0 }, null);
    expect(r.map((d) => d.improved)).toEqual([true, false, true]);
    expect(r.map((d) => d.lr)).toEqual([0.01, 0.001, 0.001]);
  });

  it('off (null): the lr never changes', () => {
    expect(run([1, 2, 3, 4, 5], null, null).every((d) => d.lr === 0.01 && !d.lrReduced)).toBe(true);
  });
});

describe('schedule: early stopping (as Keras EarlyStopping)', () => {
  it('stops after `patience` epochs without a better loss; an improvement resets the count', () => {
    const r = run([1.0, 1.1, 0.9, 1.0, 1.0, 1.0], null, 3);
    expect(r.map((d) => d.stop)).toEqual([false, false, false, false, false, true]);
  });

  it('patience 1 stops at the first epoch that is not better; off (null) never stops', () => {
    expect(run([1.0, 1.0], null, 1).map((d) => d.stop)).toEqual([false, true]);
    expect(run([1, 2, 3, 4, 5, 6, 7, 8], null, null).some((d) => d.stop)).toBe(false);
  });

  it('plateau and early stopping together: the lr drops before the run gives up', () => {
    const r = run([1.0, 1.1, 1.2, 1.3, 1.4], { factor: 0.5, patience: 2, minLr: 0 }, 4);
    expect(r.map((d) => [d.lrReduced, d.stop])).toEqual([[false, false], [false, false], [true, false], [false, false], [true, true]]);
  });
});

describe('schedule: the state survives a checkpoint (JSON)', () => {
  it('a fresh state that went through JSON still takes the first epoch as its best', () => {
    const s = JSON.parse(JSON.stringify(initialSchedule(0.01)));
    expect(s.bestLoss).toBeNull(); // Infinity has no JSON form
    const d = afterEpoch(s, 1, 2.5, { factor: 0.5, patience: 1, minLr: 0 }, 1);
    expect(d).toEqual({ improved: true, lrReduced: false, stop: false });
    expect(s).toEqual({ lr: 0.01, bestLoss: 2.5, bestEpoch: 1, sinceLrChange: 0, sinceBest: 0 });
  });

  it('continuing from a JSON copy gives the same decisions as continuing in memory', () => {
    const plateau = { factor: 0.5, patience: 2, minLr: 1e-4 };
    const losses = [1.0, 0.9, 0.95, 0.97, 0.85, 0.9, 0.91, 0.92];
    const a = initialSchedule(0.01);
    const b = initialSchedule(0.01);
    let copy = b;
    losses.forEach((loss, i) => {
      const da = afterEpoch(a, i + 1, loss, plateau, 3);
      copy = JSON.parse(JSON.stringify(copy));
      const db = afterEpoch(copy, i + 1, loss, plateau, 3);
      expect(db).toEqual(da);
    });
    expect(copy).toEqual(a);
  });
});

describe('schedule: warm-up then cosine decay (cosineLr), per step', () => {
  it('climbs linearly over the warm-up steps, starting above 0 and reaching the peak on the last one', () => {
    // 4 warm-up steps of 100: base·1/4, ·2/4, ·3/4, ·4/4
    [0.025, 0.05, 0.075, 0.1].forEach((lr, s) => expect(cosineLr(0.1, s, 100, 4)).toBeCloseTo(lr, 15));
    expect(cosineLr(0.1, 3, 100, 4)).toBe(0.1);
  });

  it('then follows half a cosine from the peak down to 0 at the planned end', () => {
    const base = 0.05;
    const total = 104;
    const warm = 4;
    expect(cosineLr(base, warm, total, warm)).toBe(base); // t = 0
    expect(cosineLr(base, warm + 50, total, warm)).toBeCloseTo(base / 2, 15); // t = 1/2
    expect(cosineLr(base, warm + 25, total, warm)).toBeCloseTo(base * 0.5 * (1 + Math.SQRT1_2), 15); // t = 1/4
    expect(cosineLr(base, warm + 75, total, warm)).toBeCloseTo(base * 0.5 * (1 - Math.SQRT1_2), 15);
    // the last step is small but not 0; at and past the end it stays 0
    const last = cosineLr(base, total - 1, total, warm);
    expect(last).toBeGreaterThan(0);
    expect(last).toBeCloseTo(base * 0.5 * (1 + Math.cos(Math.PI * 0.99)), 15);
    expect(cosineLr(base, total, total, warm)).toBe(0);
    expect(cosineLr(base, total + 7, total, warm)).toBe(0);
    // never rises after the warm-up
    for (let s = warm + 1; s <= total; s++) expect(cosineLr(base, s, total, warm)).toBeLessThanOrEqual(cosineLr(base, s - 1, total, warm));
  });

  it('with no warm-up the first step is at the peak', () => {
    expect(cosineLr(0.2, 0, 10, 0)).toBe(0.2);
    expect(cosineLr(0.2, 5, 10, 0)).toBeCloseTo(0.1, 15);
  });
});
