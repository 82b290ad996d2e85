import { FerError } from '../backend/errors.ts';
import { EMOTIONS } from '../data/emotions.ts';
import { BatchNorm } from './batchnorm.ts';
import { Conv2D } from './conv2d.ts';
import { Dense } from './dense.ts';
import { Dropout } from './dropout.ts';
import { Flatten } from './flatten.ts';
import type { Layer } from './layer.ts';
import { layerFromConfig } from './layer-config.ts';
import { GlobalAvgPool2D, MaxPool2D } from './pooling.ts';
import { ReLU } from './activation.ts';
import { Sequential, type ModelSpec } from './sequential.ts';

/** The models' output classes: FER2013's labels in order, from the one list (data/emotions.ts). */
export const FER_CLASSES: string[] = [...EMOTIONS];
const INPUT = [1, 48, 48];

/**
 * `seed`: the Keras network this project reproduces (66% on FER2013 after 14 hours of CPU
 * training). Three blocks of conv-relu-BN, conv-relu-BN, 2×2 max-pool with 256, 128, 64
 * filters (the very first convolution is 'valid', 48→46), then dense 512, 256, 128 with
 * relu and BN, and 7 outputs. 2,137,991 parameters, 1.50 G multiply-adds per image.
 */
export function seedLayers(): Layer[] {
  const layers: Layer[] = [];
  [256, 128, 64].forEach((filters, block) => {
    layers.push(new Conv2D({ filters, kernelSize: 3, padding: block === 0 ? 'valid' : 'same', activation: 'relu' }), new BatchNorm());
    layers.push(new Conv2D({ filters, kernelSize: 3, padding: 'same', activation: 'relu' }), new BatchNorm());
    layers.push(new MaxPool2D({ size: 2 }));
  });
  layers.push(new Flatten());
  for (const units of [512, 256, 128]) layers.push(new Dense({ units, activation: 'relu' }), new BatchNorm());
  layers.push(new Dense({ units: FER_CLASSES.length }));
  return layers;
}

/**
 * `small`: four conv-relu-BN-pool stages widening 32→64→128→128 as the image halves
 * 48→24→12→6→3, then dropout, dense 128, dropout and the classifier. About 25 M multiply-adds
 * per image, some 60 times cheaper than `seed`, so a CPU trains it in minutes per epoch.
 */
export function smallLayers(): Layer[] {
  const layers: Layer[] = [];
  // Running statistics follow the batches at momentum 0.9 (PyTorch's 0.1), not Keras's 0.99:
  // a short CPU run takes a few hundred steps, too few for 0.99 to forget its initial values.
  const bn = () => new BatchNorm({ momentum: 0.9 });
  for (const filters of [32, 64, 128, 128]) {
    layers.push(new Conv2D({ filters, kernelSize: 3, padding: 'same', activation: 'relu' }), bn(), new MaxPool2D({ size: 2 }));
  }
  layers.push(new Flatten(), new Dropout(0.4), new Dense({ units: 128, activation: 'relu' }), bn(), new Dropout(0.3));
  layers.push(new Dense({ units: FER_CLASSES.length }));
  return layers;
}

/** The side of the random (training) and centre or ten (test) crops the `vgg` model reads. */
export const VGG_CROP = 40;

/**
 * `vgg`: VGG-style stages of two 3×3 'same' convolutions at 24, 48, 96, 192 filters on 40×40
 * crops (40→20→10→5 through three 2×2 max-pools), each convolution followed by batch norm and
 * THEN relu (conv-BN-relu, the usual order; the other models put relu first), global average
 * pooling, dropout 0.3 and the 7-way classifier. 663,535 parameters, 46 M multiply-adds per
 * crop: dense 3×3 convolutions all the way, which the GEMM runs well.
 */
export function vggLayers(): Layer[] {
  const layers: Layer[] = [];
  const bn = () => new BatchNorm({ momentum: 0.9 });
  [24, 48, 96, 192].forEach((filters, stage) => {
    for (let i = 0; i < 2; i++) layers.push(new Conv2D({ filters, kernelSize: 3, padding: 'same' }), bn(), new ReLU());
    if (stage < 3) layers.push(new MaxPool2D({ size: 2 }));
  });
  layers.push(new GlobalAvgPool2D(), new Dropout(0.3), new Dense({ units: FER_CLASSES.length }));
  return layers;
}

export const MODEL_NAMES = ['seed', 'small', 'vgg'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The input side a model reads by default: 40-pixel crops for `vgg`, whole 48×48 faces for the others. */
export function defaultInputSide(name: string): number {
  return name === 'vgg' ? VGG_CROP : INPUT[1];
}

/**
 * An unbuilt model by name (call build() to create its parameters), reading side×side images
 * (default: defaultInputSide); a side below 48 makes it a model of crops.
 */
export function createModel(name: string, side = defaultInputSide(name)): Sequential {
  const input = [1, side, side];
  if (name === 'seed') return new Sequential('seed', seedLayers(), input, FER_CLASSES);
  if (name === 'small') return new Sequential('small', smallLayers(), input, FER_CLASSES);
  if (name === 'vgg') return new Sequential('vgg', vggLayers(), input, FER_CLASSES);
  throw new FerError(`unknown model "${name}": choose ${MODEL_NAMES.slice(0, -1).join(', ')} or ${MODEL_NAMES[MODEL_NAMES.length - 1]}`);
}

/** An unbuilt model from the structure stored in a model file. */
export function modelFromSpec(spec: ModelSpec): Sequential {
  if (!spec || !Array.isArray(spec.layers) || !Array.isArray(spec.inputShape) || !Array.isArray(spec.classes)) {
    throw new FerError('model: architecture metadata is missing layers, inputShape or classes');
  }
  return new Sequential(String(spec.name ?? 'model'), spec.layers.map(layerFromConfig), spec.inputShape, spec.classes.map(String));
}
