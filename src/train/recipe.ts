import type { AugmentOptions } from '../data/augment.ts';
import type { TestTime } from '../nn/test-time.ts';

/**
 * `fer train --recipe vgg`: the settings of the PyTorch reference run this engine reproduces
 * (the `vgg` network on 40-pixel crops, 64.7% on FER2013 PublicTest, 65.7% with ten crops after
 * 30 epochs). Each value is a default that an explicit flag overrides.
 *   - random 40×40 crops of the 48×48 faces (shift ±4), flips, ±10° rotation, ±15% zoom, random
 *     erasing with probability 0.5; no brightness or contrast change (the reference had none);
 *   - SGD with Nesterov momentum 0.9, lr 0.05, L2 weight decay 5e-4 added to the gradient as
 *     torch.optim.SGD does (coupled, not decoupled; on kernels only, not biases or batch norm);
 *   - one epoch of linear warm-up, then cosine decay to 0 over the 30 planned epochs; no
 *     plateau reduction or early stopping (they would fight the schedule);
 *   - label smoothing 0.1, batch 64; validation on centre crops, the model file tuned for
 *     ten-crop averaging.
 */
export interface Recipe {
  model: string;
  crop: number;
  augment: AugmentOptions;
  optimizer: 'sgd';
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  warmupEpochs: number;
  epochs: number;
  batch: number;
  labelSmoothing: number;
  testTime: TestTime;
}

export const RECIPES: Record<string, Recipe> = {
  vgg: {
    model: 'vgg',
    crop: 40,
    augment: { shift: 4, flip: 0.5, rotate: 10, brightness: 0, contrast: 0, scale: 0.15, erase: 0.5 },
    optimizer: 'sgd',
    lr: 0.05,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 5e-4,
    warmupEpochs: 1,
    epochs: 30,
    batch: 64,
    labelSmoothing: 0.1,
    testTime: 'ten-crop',
  },
};
