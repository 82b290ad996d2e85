import { FerError } from '../backend/errors.ts';
import { BatchNorm } from './batchnorm.ts';
import { Conv2D } from './conv2d.ts';
import { Dense } from './dense.ts';
import { Dropout } from './dropout.ts';
import { Flatten } from './flatten.ts';
import type { Layer, LayerConfig } from './layer.ts';
import { GlobalAvgPool2D, MaxPool2D } from './pooling.ts';
import { ReLU } from './activation.ts';

/** Rebuilds a layer from the config a model file stores. */
export function layerFromConfig(c: LayerConfig): Layer {
  const { type, ...o } = c;
  const num = (k: string, required = true): number | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new FerError(`model: layer ${type} needs a number "${k}", got ${JSON.stringify(v)}`);
    return v;
  };
  const act = (): 'relu' | null => {
    if (o.activation === 'relu' || o.activation === null || o.activation === undefined) return (o.activation as 'relu' | null) ?? null;
    throw new FerError(`model: unknown activation ${JSON.stringify(o.activation)}`);
  };
  const padding = (): 'same' | 'valid' => {
    if (o.padding === 'same' || o.padding === 'valid' || o.padding === undefined) return (o.padding as 'same' | 'valid') ?? 'valid';
    throw new FerError(`model: unknown padding ${JSON.stringify(o.padding)}`);
  };
  switch (type) {
    case 'Conv2D':
      return new Conv2D({ filters: num('filters')!, kernelSize: num('kernelSize')!, stride: num('stride', false), padding: padding(), activation: act() });
    case 'Dense':
      return new Dense({ units: num('units')!, activation: act() });
    case 'BatchNorm':
      return new BatchNorm({ momentum: num('momentum', false), eps: num('eps', false) });
    case 'MaxPool2D':
      return new MaxPool2D({ size: num('size', false), stride: num('stride', false), padding: padding() });
    case 'GlobalAvgPool2D':
      return new GlobalAvgPool2D();
    case 'ReLU':
      return new ReLU();
    case 'Flatten':
      return new Flatten();
    case 'Dropout':
      return new Dropout(num('rate')!);
    default:
      throw new FerError(`model: unknown layer type ${JSON.stringify(type)}`);
  }
}
