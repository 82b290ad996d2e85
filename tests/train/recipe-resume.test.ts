import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/backend/random.ts';
import { ReLU } from '../../src/nn/activation.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { FER_CLASSES } from '../../src/nn/models.ts';
import { GlobalAvgPool2D } from '../../src/nn/pooling.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Optimizer } from '../../src/train/optimizer.ts';
import { RunFolder } from '../../src/train/run-folder.ts';
import { newRunState, type TrainSettings } from '../../src/train/run-state.ts';
import { cosineLr } from '../../src/train/schedule.ts';
import { batchesPerEpoch } from '../../src/train/trainer.ts';
import { curve, go, resumeRun, tempDir, tensorBytes, tinyData, tinySettings, type Session } from './tiny-run.ts';

// The vgg recipe in miniature: 40×40 random crops with zoom and erasing, conv-BN-relu, global
// average pooling, SGD with Nesterov momentum and weight decay, warm-up then cosine lr per step,
// label smoothing. A run stopped mid-epoch and resumed must repeat the straight run bit for bit
// (the lr comes from the step, the crops and erasures from the epoch and batch).

const CROP = 40;
const BATCHES = batchesPerEpoch(tinyData.train.count, 4);

function recipeSettings(): TrainSettings {
  return tinySettings({
    model: 'tiny-crop',
    epochs: 2,
    optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    augment: { shift: (48 - CROP) / 2, flip: 0.5, rotate: 10, brightness: 0, contrast: 0, scale: 0.15, erase: 0.5 },
    plateau: null,
    lrSchedule: { kind: 'cosine', warmupEpochs: 1, peakLr: 0.05 },
    labelSmoothing: 0.1,
    crop: CROP,
    testTime: 'ten-crop',
  });
}

function start(dir: string): Session {
  const settings = recipeSettings();
  const model = new Sequential(
    'tiny-crop',
    [
      new Conv2D({ filters: 4, kernelSize: 3, stride: 2, padding: 'same' }),
      new BatchNorm({ momentum: 0.9 }),
      new ReLU(),
      new GlobalAvgPool2D(),
      new Dropout(0.2),
      new Dense({ units: 7 }),
    ],
    [1, CROP, CROP],
    FER_CLASSES,
  ).build(new Random(settings.seed), 'cpu');
  return { run: RunFolder.create(dir), model, optimizer: new Optimizer(settings.optimizer), state: newRunState(settings) };
}

describe('resume with the recipe: cosine lr, crops, zoom, erasing, label smoothing', () => {
  it('interrupted mid-epoch in each epoch and resumed: the same per-step lr, curve, weights and optimizer state', async () => {
    const straightDir = tempDir('recipe-straight');
    const a = start(straightDir);
    const lrs: number[] = [];
    expect((await go(a, { onStep: () => lrs.push(a.state.schedule.lr) })).outcome).toBe('finished');
    // the schedule ran: the lr of every step is the cosine curve's, not the configured one
    expect(lrs).toEqual(Array.from({ length: 2 * BATCHES }, (_, s) => cosineLr(0.05, s, 2 * BATCHES, BATCHES)));

    const dir = tempDir('recipe-resume');
    let s = start(dir);
    const resumedLrs: number[] = [];
    const onStep = () => resumedLrs.push(s.state.schedule.lr);
    expect((await go(s, { onStep, interrupted: () => s.state.step === 3 })).outcome).toBe('interrupted');
    s = resumeRun(dir);
    expect([s.state.epoch, s.state.batch, s.state.step]).toEqual([0, 3, 3]);
    expect(s.state.settings).toEqual(JSON.parse(JSON.stringify(recipeSettings())));
    expect((await go(s, { onStep, interrupted: () => s.state.step === BATCHES + 5 })).outcome).toBe('interrupted');
    s = resumeRun(dir);
    expect([s.state.epoch, s.state.batch]).toEqual([1, 5]);
    expect((await go(s, { onStep })).outcome).toBe('finished');

    expect(resumedLrs).toEqual(lrs);
    expect(curve(s.state.log)).toEqual(curve(a.state.log));
    expect(tensorBytes(join(dir, 'checkpoint.safetensors'))).toEqual(tensorBytes(join(straightDir, 'checkpoint.safetensors')));
    expect(tensorBytes(join(dir, 'model.safetensors'))).toEqual(tensorBytes(join(straightDir, 'model.safetensors')));
  });
});
