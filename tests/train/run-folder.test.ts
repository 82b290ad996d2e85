import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { modelFromBytes } from '../../src/nn/model-file.ts';
import { RunFolder, trainingMetadata } from '../../src/train/run-folder.ts';
import { newRunState } from '../../src/train/run-state.ts';
import { cosineLr } from '../../src/train/schedule.ts';
import { batchesPerEpoch } from '../../src/train/trainer.ts';
import { go, startRun, tempDir, tensorBytes, tinyData, tinySettings } from './tiny-run.ts';

const BATCHES = batchesPerEpoch(tinyData.train.count, 4);

describe('run folder', () => {
  const dir = tempDir('folder');
  const session = (async () => {
    const s = startRun(dir, tinySettings({ epochs: 1 }));
    await go(s);
    return s;
  })();

  it('checkpoint: weights, optimizer state and run state restore exactly', async () => {
    const s = await session;
    const back = new RunFolder(dir).loadCheckpoint('cpu');
    expect(back.state).toEqual(JSON.parse(JSON.stringify(s.state)));
    expect(back.optimizer.step).toBe(s.optimizer.step);
    expect(back.optimizer.config).toEqual(s.optimizer.config);
    expect([...back.optimizer.state.keys()]).toEqual([...s.optimizer.state.keys()]);
    for (const [k, t] of s.optimizer.state) expect(await back.optimizer.state.get(k)!.read()).toEqual(await t.read());
    for (const p of s.model.params()) {
      const q = back.model.params().find((r) => r.name === p.name)!;
      expect(new Uint8Array((await q.value.read()).buffer)).toEqual(new Uint8Array((await p.value.read()).buffer));
    }
    // Adam's two moments for each of the 6 trainable tensors.
    expect(tensorBytes(join(dir, 'checkpoint.safetensors')).size).toBe(s.model.params().length + 12);
  });

  it('model.safetensors is a model file with how it was trained', async () => {
    const s = await session;
    const { model, metadata } = modelFromBytes(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))), 'model.safetensors', 'cpu');
    expect(model.spec()).toEqual(s.model.spec());
    expect(metadata).toMatchObject({ trained_with: 'fer-webgpu', epochs: '1', optimizer: 'adam lr 0.003', batch_size: '4', augment: 'true', seed: '7' });
    expect(Number(metadata.val_accuracy)).toBe(s.state.log[0].valAccuracy);
    expect(JSON.parse(readFileSync(join(dir, 'log.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(s.state.log)));
  });

  it('refuses with one line: no checkpoint, or a model file where a checkpoint should be', async () => {
    await session;
    const none = tempDir('folder-none');
    expect(() => new RunFolder(none).loadCheckpoint('cpu')).toThrow(new FerError(`${none}: no checkpoint.safetensors to resume from`));
    const other = tempDir('folder-model');
    copyFileSync(join(dir, 'model.safetensors'), join(other, 'checkpoint.safetensors'));
    expect(() => new RunFolder(other).loadCheckpoint('cpu')).toThrow(
      new FerError(`${join(other, 'checkpoint.safetensors')}: the run_state metadata is missing or not JSON`),
    );
  });
});

describe('run folder: the lr in the model file under a schedule', () => {
  it('a cosine run records its configured (peak) lr and schedule, and names the last step\'s lr apart; the settings it was given stay as they were', async () => {
    const dir = tempDir('folder-cosine');
    const settings = tinySettings({
      epochs: 2,
      plateau: null,
      optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0 },
      lrSchedule: { kind: 'cosine', warmupEpochs: 1, peakLr: 0.05 },
    });
    const s = startRun(dir, settings);
    expect((await go(s)).outcome).toBe('finished');
    // the trainer set the optimizer's lr every step without writing over the run's settings
    expect(settings.optimizer.lr).toBe(0.05);
    const steps = 2 * BATCHES;
    const lastLr = cosineLr(0.05, steps - 1, steps, BATCHES);
    expect(lastLr).toBeGreaterThan(0);
    expect(lastLr).toBeLessThan(0.01);
    for (const file of ['model.safetensors', 'best.safetensors']) {
      const { metadata } = modelFromBytes(new Uint8Array(readFileSync(join(dir, file))), file, 'cpu');
      expect(metadata.optimizer, file).toBe('sgd lr 0.05');
      expect(metadata.lr_schedule, file).toBe('cosine: linear warm-up to 0.05 over 1 epoch(s), then cosine decay towards 0 at epoch 2, set every step');
      expect(JSON.parse(metadata.settings).optimizer.lr, file).toBe(0.05);
    }
    const { metadata } = modelFromBytes(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))), 'model.safetensors', 'cpu');
    expect(metadata.last_step_lr).toBe(String(lastLr));
    // the checkpoint restores the configured lr in the settings and the schedule's in the optimizer
    const back = new RunFolder(dir).loadCheckpoint('cpu');
    expect(back.state.settings.optimizer.lr).toBe(0.05);
    expect(back.optimizer.config.lr).toBe(lastLr);
  });

  it('a plateau cut after the last epoch is not the last step\'s lr; mid-epoch, the lr in use is', () => {
    const state = newRunState(tinySettings({ epochs: 3, optimizer: { kind: 'sgd', lr: 0.01, momentum: 0, nesterov: false, weightDecay: 0 } }));
    expect(trainingMetadata(state).last_step_lr).toBeUndefined(); // no step yet
    // epoch 2 ended at lr 0.01 and the plateau then halved it for epoch 3
    const record = { epoch: 2, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5, lr: 0.01, seconds: 1, imagesPerSecond: 1, backend: 'cpu' };
    Object.assign(state, { epoch: 2, batch: 0, step: 2 * BATCHES, log: [{ ...record, epoch: 1 }, record] });
    state.schedule.lr = 0.005;
    const m = trainingMetadata(state);
    expect(m.optimizer).toBe('sgd lr 0.01');
    expect(m.lr_schedule).toBe('plateau: from 0.01, ×0.5 after 1 epoch(s) without a better validation loss, not below 0.00001');
    expect(m.last_step_lr).toBe('0.01');
    Object.assign(state, { batch: 3, step: 2 * BATCHES + 3 });
    expect(trainingMetadata(state).last_step_lr).toBe('0.005');
    expect(trainingMetadata(newRunState(tinySettings({ plateau: null }))).lr_schedule).toBe('constant 0.003');
  });
});
