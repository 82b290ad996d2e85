/**
 * `fer-webgpu/engine`: the convolutional-network engine itself, for programs and pages that
 * build and train their own networks. Tensors on the CPU path or WebGPU, the ops with their
 * backward passes, layers, Sequential models, optimizers, a training loop, and safetensors
 * model files. Works in Node and in browsers (WGSL travels inside the module as text).
 *
 *   import { useBackend, Sequential, Dense, Optimizer, fit, Random } from 'fer-webgpu/engine';
 *   await useBackend('auto');
 *   const model = new Sequential('xor', [new Dense({ units: 8, activation: 'relu' }), new Dense({ units: 2 })], [2], ['0', '1']);
 *   model.build(new Random(1), defaultBackend());
 */
import { defaultBackend, hasBackend, setDefaultBackend } from './backend/backends.ts';
import { FerError } from './backend/errors.ts';
import type { BackendName } from './backend/tensor.ts';
import { initWasm } from './backend/wasm/backend.ts';
import { initWebGpu, type WebGpuBackend } from './backend/webgpu/backend.ts';
import { Optimizer } from './train/optimizer.ts';

// Backends and tensors: everything src/backend exposes, so a backend added there (its init
// function, its name in BackendName) is part of this entry without a second list to keep.
export * from './backend/backends.ts';
export * from './backend/create.ts';
export * from './backend/errors.ts';
export * from './backend/random.ts';
export * from './backend/scope.ts';
export * from './backend/tensor.ts';
export { initWebGpu, type WebGpuBackend } from './backend/webgpu/backend.ts';
export { initWasm, type WasmBackend } from './backend/wasm/backend.ts';
export type { AdapterInfo } from './backend/webgpu/adapter.ts';

// Ops: forward and backward, each on whichever backend its inputs live.
export { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dGeometry, type Conv2dForwardOptions, type Conv2dOptions, type Padding } from './ops/conv2d.ts';
export { matmul, type MatmulOptions } from './ops/matmul.ts';
export { maxPool2d, maxPool2dBackward, type Pool2dOptions } from './ops/maxpool2d.ts';
export { relu, reluBackward } from './ops/relu.ts';
export { batchNormBackward, batchNormInfer, batchNormTrain } from './ops/batchnorm.ts';
export { dropout, dropoutBackward } from './ops/dropout.ts';
export { softmax, softmaxCrossEntropy } from './ops/softmax-cross-entropy.ts';
export { argmaxRows, sumAll, sumChannels } from './ops/reduce.ts';
export { sgdUpdate, type SgdOptions } from './ops/sgd.ts';
export { adamUpdate, type AdamOptions } from './ops/adam.ts';
export { pairwiseDistance, type Metric } from './ops/pairwise-distance.ts';

// Layers and models.
export { Layer, type ForwardContext, type LayerConfig, type Param } from './nn/layer.ts';
export { Conv2D, type Conv2DOptions } from './nn/conv2d.ts';
export { Dense, type DenseOptions } from './nn/dense.ts';
export { BatchNorm } from './nn/batchnorm.ts';
export { Dropout } from './nn/dropout.ts';
export { Flatten } from './nn/flatten.ts';
export * from './nn/pooling.ts';
export { layerFromConfig } from './nn/layer-config.ts';
export { Sequential, type ModelSpec, type SummaryRow } from './nn/sequential.ts';
export { createModel, FER_CLASSES, MODEL_NAMES, modelFromSpec, type ModelName } from './nn/models.ts';
export { foldForInference } from './nn/fold.ts';

// Model files (safetensors).
export { decodeSafetensors, encodeSafetensors, type NamedTensor, type Safetensors } from './nn/safetensors.ts';
export { MODEL_FORMAT, modelFromBytes, modelToBytes, type LoadedModel } from './nn/model-file.ts';

// Training.
export { Optimizer, type OptimizerConfig } from './train/optimizer.ts';
export { fit, predictClasses, trainStep, type Examples, type FitOptions, type FitStep, type StepResult } from './train/fit.ts';
export { evaluate, type Evaluation, type EvaluateOptions } from './train/evaluate.ts';
export { metricsFromConfusion, type Metrics } from './train/metrics.ts';

// Data: 48×48 gray faces.
export { IMAGE_SIZE, PIXELS, type Dataset } from './data/dataset.ts';
export { syntheticFaces, type SyntheticOptions } from './data/synthetic.ts';
export { DEFAULT_AUGMENT, NO_AUGMENT, type AugmentOptions } from './data/augment.ts';
export { EMOTIONS } from './data/emotions.ts';
export { DatasetBuilder } from './data/dataset-builder.ts';
export { Fer2013CsvParser, type CsvRowSink } from './data/fer2013-csv-parser.ts';

/** SGD (with momentum and Nesterov if asked) as an Optimizer. */
export function sgd(opts: { lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number }): Optimizer {
  return new Optimizer({ kind: 'sgd', lr: opts.lr, momentum: opts.momentum ?? 0, nesterov: opts.nesterov ?? false, weightDecay: opts.weightDecay ?? 0 });
}

/** Adam with decoupled weight decay (AdamW when weightDecay > 0) as an Optimizer. */
export function adam(opts: { lr: number; weightDecay?: number }): Optimizer {
  return new Optimizer({ kind: 'adam', lr: opts.lr, momentum: 0, nesterov: false, weightDecay: opts.weightDecay ?? 0 });
}

export type BackendChoice = 'auto' | BackendName;

export interface ChosenBackend {
  backend: BackendName;
  /** The WebGPU adapter's name, or why WebGPU was not taken. */
  reason: string;
  gpu: WebGpuBackend | null;
}

/**
 * Picks the backend new tensors and models go to, and makes it the default. 'auto': WebGPU on
 * a hardware adapter (in Node through Dawn, the `webgpu` package), else the WebAssembly SIMD
 * kernels ('wasm'), else the TypeScript specification ('cpu'); `reason` says why. A named
 * backend that cannot start is an error.
 */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<ChosenBackend> {
  if (typeof choice !== 'string') throw new FerError(`useBackend: expected a backend name, got ${typeof choice}`);
  let why = '';
  if (choice === 'auto' || choice === 'webgpu') {
    try {
      const gpu = await initWebGpu();
      if (choice === 'webgpu' || !gpu.info.software) {
        setDefaultBackend('webgpu');
        return { backend: 'webgpu', reason: `${gpu.info.name}${gpu.info.software ? ' (a software renderer)' : ''}`, gpu };
      }
      why = `the only WebGPU adapter, ${gpu.info.name}, is a software renderer`;
    } catch (e) {
      if (choice === 'webgpu' || !(e instanceof FerError)) throw e;
      why = `no WebGPU: ${e.message}`;
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    try {
      const be = await initWasm();
      setDefaultBackend('wasm');
      return { backend: 'wasm', reason: [be.description, why].filter(Boolean).join('; '), gpu: null };
    } catch (e) {
      if (choice === 'wasm' || !(e instanceof FerError)) throw e;
      setDefaultBackend('cpu');
      return { backend: 'cpu', reason: `${why}; ${e.message}`, gpu: null };
    }
  }
  if (!hasBackend(choice)) throw new FerError(`useBackend: backend '${choice}' is not available here`);
  setDefaultBackend(choice);
  return { backend: defaultBackend(), reason: `the ${choice} backend was asked for`, gpu: null };
}
