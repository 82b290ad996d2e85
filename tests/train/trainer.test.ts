import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuData } from '../../src/backend/cpu.ts';
import { batchesPerEpoch, epochOrder } from '../../src/train/trainer.ts';
import { curve, go, resumeRun, startRun, tempDir, tensorBytes, tinyData, tinySettings, type Session } from './tiny-run.ts';

const BATCHES = batchesPerEpoch(tinyData.train.count, 4);

/** A NaN in the classifier's weights: every logit it touches turns NaN (a relu would hide it, see below). */
function poison(s: Session): void {
  cpuData(s.model.params().find((p) => p.name === 'dense.weight')!.value)[0] = Number.NaN;
}

describe('trainer: the order of examples', () => {
  it('each epoch is a permutation fixed by the seed and the epoch; a lone last example is dropped', () => {
    const a = epochOrder(30, 7, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(epochOrder(30, 7, 0)).toEqual(a);
    expect(epochOrder(30, 7, 1)).not.toEqual(a);
    expect(epochOrder(30, 8, 0)).not.toEqual(a);
    expect(batchesPerEpoch(30, 4)).toBe(8); // 7 of 4 and one of 2
    expect(batchesPerEpoch(29, 4)).toBe(7); // the last one would hold 1 example
    expect(batchesPerEpoch(28, 4)).toBe(7);
  });
});

describe('trainer: determinism and exact resume', () => {
  // The reference: 2 epochs straight. Every test below must reproduce it bit for bit.
  const straight = (async () => {
    const dir = tempDir('straight');
    const s = startRun(dir, tinySettings());
    const result = await go(s);
    return { dir, result, log: s.state.log };
  })();

  it('the same seed gives the same loss curve and the same weights twice', async () => {
    const a = await straight;
    expect(a.result.outcome).toBe('finished');
    expect(a.log).toHaveLength(2);
    for (const r of a.log) expect(Number.isFinite(r.trainLoss) && Number.isFinite(r.valLoss!)).toBe(true);
    const dir = tempDir('again');
    const b = startRun(dir, tinySettings());
    await go(b);
    expect(curve(b.state.log)).toEqual(curve(a.log));
    expect(tensorBytes(join(dir, 'checkpoint.safetensors'))).toEqual(tensorBytes(join(a.dir, 'checkpoint.safetensors')));
    // and a different seed gives a different curve
    const c = startRun(tempDir('other'), tinySettings({ seed: 8 }));
    await go(c);
    expect(curve(c.state.log)[0].trainLoss).not.toBe(a.log[0].trainLoss);
  });

  it('1 epoch, stop, resume for the 2nd: the same per-epoch losses and accuracies, identical final weights and optimizer state', async () => {
    const a = await straight;
    const dir = tempDir('resume');
    const first = startRun(dir, tinySettings({ epochs: 1 }));
    expect((await go(first)).outcome).toBe('finished');
    expect(first.state.finished).toBe(true);
    const second = resumeRun(dir, 2);
    expect(second.state.epoch).toBe(1);
    expect(second.state.step).toBe(BATCHES);
    expect((await go(second)).outcome).toBe('finished');
    expect(curve(second.state.log)).toEqual(curve(a.log));
    expect(tensorBytes(join(dir, 'checkpoint.safetensors'))).toEqual(tensorBytes(join(a.dir, 'checkpoint.safetensors')));
    expect(tensorBytes(join(dir, 'best.safetensors'))).toEqual(tensorBytes(join(a.dir, 'best.safetensors')));
  });

  it('interrupted mid-epoch twice (the `interrupted` hook) and resumed each time: the same run', async () => {
    const a = await straight;
    const dir = tempDir('interrupt');
    // Stop before step 3 of epoch 1, then before batch 5 of epoch 2.
    let s = startRun(dir, tinySettings());
    let r = await go(s, { interrupted: () => s.state.step === 3 });
    expect(r.outcome).toBe('interrupted');
    expect(r.message).toBe(`interrupted: checkpoint saved at epoch 1, batch 3/${BATCHES}`);
    expect(s.state.log).toHaveLength(0);

    s = resumeRun(dir);
    expect([s.state.epoch, s.state.batch, s.state.step]).toEqual([0, 3, 3]);
    expect(s.state.partial.seen).toBe(12);
    r = await go(s, { interrupted: () => s.state.step === BATCHES + 4 });
    expect(r.outcome).toBe('interrupted');
    expect(r.message).toBe(`interrupted: checkpoint saved at epoch 2, batch 4/${BATCHES}`);

    s = resumeRun(dir);
    expect((await go(s)).outcome).toBe('finished');
    expect(curve(s.state.log)).toEqual(curve(a.log));
    expect(tensorBytes(join(dir, 'checkpoint.safetensors'))).toEqual(tensorBytes(join(a.dir, 'checkpoint.safetensors')));
  });
});

const files = ['checkpoint.safetensors', 'model.safetensors', 'best.safetensors', 'log.json'];
const snapshot = (dir: string) => files.map((f) => readFileSync(join(dir, f)));

describe('trainer: a loss that stops being finite', () => {

  it('an absurd learning rate from epoch 2 on: stopped with one line, the epoch-1 files untouched', async () => {
    const dir = tempDir('diverge-lr');
    const s = startRun(dir, tinySettings({ optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 }, plateau: null }));
    let before: Buffer[] = [];
    const r = await go(s, {
      onEpoch: () => {
        before = snapshot(dir);
        s.state.schedule.lr = 1e30;
      },
    });
    expect(r.outcome).toBe('diverged');
    expect(r.message).toMatch(/^loss became (NaN|Infinity|-Infinity) at epoch 2, batch \d+: stopped \(try a lower --lr\); the checkpoint from the end of epoch 1 is kept in /);
    expect(r.message).not.toContain('\n');
    expect(snapshot(dir)).toEqual(before);
  });

  it('after a mid-epoch interrupt and resume, the message names that checkpoint, not the last epoch', async () => {
    const dir = tempDir('diverge-mid');
    const s = startRun(dir, tinySettings({ optimizer: { kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 }, plateau: null }));
    let steps = 0;
    expect((await go(s, { onStep: () => void steps++, interrupted: () => steps === 1 })).outcome).toBe('interrupted');
    const before = readFileSync(join(dir, 'checkpoint.safetensors'));
    const resumed = resumeRun(dir);
    resumed.state.schedule.lr = 1e30;
    const r = await go(resumed);
    expect(r.outcome).toBe('diverged');
    expect(r.message).toMatch(/; the checkpoint from epoch 1, batch 1 is kept in /);
    expect(readFileSync(join(dir, 'checkpoint.safetensors'))).toEqual(before);
  });

  it('a poisoned weight (NaN) mid-epoch: stopped at the next batch, the last good checkpoint untouched', async () => {
    const dir = tempDir('diverge-nan');
    const s = startRun(dir, tinySettings());
    let before: Buffer[] = [];
    const r = await go(s, {
      onEpoch: () => (before = snapshot(dir)),
      onStep: (st) => {
        if (st.epoch === 1 && st.batch === 2) poison(s);
      },
    });
    expect(r.outcome).toBe('diverged');
    expect(r.message).toMatch(/^loss became NaN at epoch 2, batch 3: stopped/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('weights that turn NaN in the last step of an epoch are not saved over the last good checkpoint', async () => {
    const dir = tempDir('diverge-end');
    const s = startRun(dir, tinySettings({ epochs: 3 }));
    let before: Buffer[] = [];
    const r = await go(s, {
      onEpoch: (rec) => {
        if (rec.epoch === 1) before = snapshot(dir);
      },
      onStep: (st) => {
        if (st.epoch === 1 && st.batch === st.batches) poison(s);
      },
    });
    expect(r.outcome).toBe('diverged');
    expect(r.message).not.toContain('\n');
    expect(r.message).toMatch(/^validation loss became NaN at epoch 2: stopped \(try a lower --lr\); the checkpoint from the end of epoch 1 is kept in /);
    expect(snapshot(dir)).toEqual(before);
    expect(s.state.log).toHaveLength(1);
  });

  it('before any checkpoint: says that none was written', async () => {
    const s = startRun(tempDir('diverge-first'), tinySettings());
    const r = await go(s, { onStep: () => (poison(s)) });
    expect(r.outcome).toBe('diverged');
    expect(r.message).toMatch(/^loss became NaN at epoch 1, batch 2: stopped \(try a lower --lr\); no checkpoint was written yet in /);
  });
});

describe('trainer: NaN weights that no loss shows', () => {
  // A NaN in a kernel feeding a relu is hidden: relu(NaN) is 0 on the CPU, so every loss stays
  // finite while the weights are broken. Saving them would leave a model file that cannot be loaded.
  const poisonConv = (s: Session) => (cpuData(s.model.params().find((p) => p.name === 'conv2d.weight')!.value)[0] = Number.NaN);

  it('are caught at the end of the epoch, before any file is written', async () => {
    const dir = tempDir('hidden-nan');
    const s = startRun(dir, tinySettings());
    let before: Buffer[] = [];
    const r = await go(s, {
      onEpoch: (rec) => {
        if (rec.epoch === 1) before = snapshot(dir);
      },
      onStep: (st) => {
        if (st.epoch === 1 && st.batch === 2) poisonConv(s);
      },
    });
    expect(r.outcome).toBe('diverged');
    expect(r.message).toMatch(/^conv2d\.weight holds NaN at the end of epoch 2: stopped \(try a lower --lr\); the checkpoint from the end of epoch 1 is kept in /);
    expect(snapshot(dir)).toEqual(before);
  });

  it('are caught when interrupted, instead of being saved in the checkpoint', async () => {
    const dir = tempDir('hidden-nan-int');
    const s = startRun(dir, tinySettings());
    const r = await go(s, {
      onStep: (st) => {
        if (st.batch === 2) poisonConv(s);
      },
      interrupted: () => s.state.step === 3,
    });
    expect(r.outcome).toBe('diverged');
    expect(r.message).toMatch(/^conv2d\.weight holds NaN at epoch 1, batch 3: stopped \(try a lower --lr\); no checkpoint was written yet/);
    expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(false);
  });
});

describe('trainer: schedule and early stopping in a run', () => {
  it('without validation data the schedule watches the training loss; early stopping ends the run and says why', async () => {
    const s = startRun(tempDir('early'), tinySettings({ epochs: 6, earlyStop: 1, plateau: null, optimizer: { kind: 'sgd', lr: 1e-6, momentum: 0, nesterov: false, weightDecay: 0 } }));
    const r = await go(s, {}, { train: tinyData.train, val: null });
    // lr 1e-6 barely moves the weights: the training loss does not improve by the 1e-4 margin for long.
    expect(s.state.log.every((rec) => rec.valLoss === null && rec.valAccuracy === null)).toBe(true);
    if (r.outcome === 'early-stopped') {
      expect(r.message).toBe('early stopping: no better validation loss for 1 epoch');
      expect(s.state.finished).toBe(true);
      expect(s.state.log.length).toBeLessThan(6);
    } else {
      expect(r.outcome).toBe('finished');
      expect(s.state.log).toHaveLength(6);
    }
  });
});
