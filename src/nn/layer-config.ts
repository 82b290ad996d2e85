import { FerError } from '../backend/errors.ts';
import { BatchNorm } from './batchnorm.ts';
import { Conv2D } from './conv2d.ts';
import { Dense } from './dense.ts';
import { Dropout } from './dropout.ts';
import { Flatten } from './flatten.ts';
import type { Layer, LayerConfig } from './layer.ts';
import { GlobalAvgPool2D, MaxPool2D } from './pooling.ts';
import { ReLU } from './activation.ts';

/** Reads a stored layer config's options, with one wording for every bad value. */
export interface ConfigReader {
  num(key: string): number;
  optionalNum(key: string): number | undefined;
  activation(): 'relu' | null;
  padding(): 'same' | 'valid';
}

/**
 * Every layer type a model file may hold, and how to rebuild it from its config. A type missing
 * here cannot be loaded; tests/nn/layer-types.test.ts fails for a Layer class in src/nn that is
 * not listed and checks each listed type's round trip, parameters, kernels and Keras twin.
 */
export const LAYER_TYPES = {
  Conv2D: (o: ConfigReader) =>
    new Conv2D({ filters: o.num('filters'), kernelSize: o.num('kernelSize'), stride: o.optionalNum('stride'), padding: o.padding(), activation: o.activation() }),
  Dense: (o: ConfigReader) => new Dense({ units: o.num('units'), activation: o.activation() }),
  BatchNorm: (o: ConfigReader) => new BatchNorm({ momentum: o.optionalNum('momentum'), eps: o.optionalNum('eps') }),
  MaxPool2D: (o: ConfigReader) => new MaxPool2D({ size: o.optionalNum('size'), stride: o.optionalNum('stride'), padding: o.padding() }),
  GlobalAvgPool2D: () => new GlobalAvgPool2D(),
  ReLU: () => new ReLU(),
  Flatten: () => new Flatten(),
  Dropout: (o: ConfigReader) => new Dropout(o.num('rate')),
} satisfies Record<string, (o: ConfigReader) => Layer>;

export type LayerType = keyof typeof LAYER_TYPES;

/** Rebuilds a layer from the config a model file stores. */
export function layerFromConfig(c: LayerConfig): Layer {
  const { type, ...o } = c;
  const num = (k: string, required = true): number | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FerError(`model: layer ${type} needs a number "${k}", got ${JSON.stringify(v)}`);
    return v;
  };
  const reader: ConfigReader = {
    num: (k) => num(k)!,
    optionalNum: (k) => num(k, false),
    activation: () => {
      if (o.activation === 'relu' || o.activation === null || o.activation === undefined) return (o.activation as 'relu' | null) ?? null;
      throw new FerError(`model: unknown activation ${JSON.stringify(o.activation)}`);
    },
    padding: () => {
      if (o.padding === 'same' || o.padding === 'valid' || o.padding === undefined) return (o.padding as 'same' | 'valid') ?? 'valid';
      throw new FerError(`model: unknown padding ${JSON.stringify(o.padding)}`);
    },
  };
  if (!Object.hasOwn(LAYER_TYPES, type)) throw new FerError(`model: unknown layer type ${JSON.stringify(type)}`);
  return LAYER_TYPES[type as LayerType](reader);
}
