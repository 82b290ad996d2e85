// TensorFlow.js as a peer: loading its backends (pure-JS `cpu`, `wasm`, `webgpu` on the same
// Dawn adapter as ours), and our models rebuilt from their layer lists in tfjs ops.
//
// Loaded by name so the bench typechecks without tfjs installed; a backend that cannot load is
// reported with its reason and left out. tfjs runs NHWC (x [N,H,W,C], filters [R,S,C,K]).
import { Random } from '../../src/backend/random.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { GlobalAvgPool2D, MaxPool2D } from '../../src/nn/pooling.ts';
import { ReLU } from '../../src/nn/activation.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { PeerStatus } from '../result-types.ts';

/** The part of the TensorFlow.js API used here. */
export interface TfTensor {
  shape: number[];
  dispose(): void;
  reshape(shape: number[]): TfTensor;
}
type Pad = 'valid' | 'same';
type Activation = 'relu' | 'linear';
export interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  /** The WebGPU backend's internals `sync` drives; the other backends have none of them. */
  backend(): { ensureCommandEncoderReady?: () => void; endComputePassEncoder?: () => void; submitQueue?: () => void; device?: GPUDevice };
  getBackend(): string;
  version: Record<string, string>;
  tensor(values: Float32Array | Int32Array, shape: number[], dtype?: 'float32' | 'int32'): TfTensor;
  variable(t: TfTensor): TfTensor;
  tidy<T>(fn: () => T): T;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  maxPool(x: TfTensor, size: number, strides: number, pad: Pad): TfTensor;
  mean(x: TfTensor, axes: number[]): TfTensor;
  relu(x: TfTensor): TfTensor;
  batchNorm(x: TfTensor, mean: TfTensor, variance: TfTensor, offset: TfTensor, scale: TfTensor, eps: number): TfTensor;
  moments(x: TfTensor, axes: number[]): { mean: TfTensor; variance: TfTensor };
  dropout(x: TfTensor, rate: number): TfTensor;
  oneHot(indices: TfTensor, depth: number): TfTensor;
  losses: { softmaxCrossEntropy(onehot: TfTensor, logits: TfTensor): TfTensor };
  train: { adam(lr: number): { minimize(f: () => TfTensor, returnCost: boolean, vars: TfTensor[]): TfTensor | null; dispose(): void } };
  fused: {
    conv2d(o: { x: TfTensor; filter: TfTensor; strides: number; pad: Pad; bias?: TfTensor; activation?: Activation }): TfTensor;
    matMul(o: { a: TfTensor; b: TfTensor; bias?: TfTensor; activation?: Activation }): TfTensor;
  };
}

export type TfDevice = 'cpu' | 'wasm' | 'webgpu';

async function load<T>(name: string): Promise<T> {
  const mod = (await import(/* @vite-ignore */ name)) as { default?: T };
  return (mod.default ?? mod) as T;
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Loads tfjs and the backends asked for. `dawn` is the GPU instance our backend opened: tfjs's
 * WebGPU backend looks for navigator.gpu when it loads, so it is given that one.
 */
export async function loadTfjs(devices: readonly TfDevice[], dawn: GPU | undefined): Promise<{ tf: Tf | null; peers: PeerStatus[] }> {
  let tf: Tf;
  try {
    tf = await load<Tf>('@tensorflow/tfjs');
  } catch (e) {
    return { tf: null, peers: devices.map((device) => ({ device, loaded: false, note: `@tensorflow/tfjs not loaded: ${firstLine(e)}` })) };
  }
  const peers: PeerStatus[] = [];
  for (const device of devices) {
    try {
      let note: string | undefined;
      if (device === 'wasm') {
        // In Node the package finds its .wasm files next to its own dist/ by default.
        const wasm = await load<{ getThreadsCount?: () => number }>('@tensorflow/tfjs-backend-wasm');
        if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") returned false');
        await tf.ready();
        note = `XNNPACK, ${wasm.getThreadsCount?.() ?? '?'} thread(s); no Conv2DBackpropFilter kernel, so no training`;
      } else if (device === 'webgpu') {
        if (!dawn) throw new Error('no WebGPU adapter');
        Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn }, configurable: true });
        await load('@tensorflow/tfjs-backend-webgpu');
        if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend("webgpu") returned false');
        note = 'same Dawn adapter as ours';
      } else {
        if (!(await tf.setBackend('cpu'))) throw new Error('setBackend("cpu") returned false');
        note = 'pure JavaScript';
      }
      peers.push({ device, loaded: true, note });
    } catch (e) {
      peers.push({ device, loaded: false, note: firstLine(e) });
    }
  }
  return { tf, peers };
}

export async function enterTfjs(tf: Tf, device: TfDevice): Promise<void> {
  await tf.setBackend(device);
  await tf.ready();
}

/** Waits until tfjs's device has finished what was recorded (CPU and wasm run synchronously). */
export async function syncTfjs(tf: Tf, device: TfDevice): Promise<void> {
  const be = tf.backend();
  if (device === 'webgpu' && be.device) {
    // What tfjs does before a read, without the read: close the open pass, submit, wait.
    be.ensureCommandEncoderReady!();
    be.endComputePassEncoder!();
    be.submitQueue!();
    await be.device.queue.onSubmittedWorkDone();
  }
}

export interface TfCall {
  call(): void;
  dispose(): void;
}

/** Random tensors for one workload, all disposed together. */
export function tfInputs(tf: Tf, seed: number) {
  const rng = new Random(seed);
  const made: TfTensor[] = [];
  const make = (shape: number[], lo = -1, hi = 1) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = tf.tensor(Float32Array.from({ length: n }, () => rng.uniform(lo, hi)), shape);
    made.push(v);
    return v;
  };
  const own = (t: TfTensor) => (made.push(t), t);
  return { make, own, rng, dispose: () => made.splice(0).forEach((v) => v.dispose()) };
}

/**
 * `model`'s layers in tfjs ops, random weights: conv (+ relu, fused), batch norm, 2×2 max
 * pooling, flatten, dense (+ relu, fused), dropout. Inference: batch norm with running
 * statistics, dropout the identity. Training: forward with batch statistics and dropout,
 * softmax cross-entropy, gradients of every weight and Adam (tfjs's optimizer.minimize); the
 * running statistics are not updated (a few small ops per batch-norm layer, left out).
 */
export function tfjsModel(tf: Tf, model: Sequential, batch: number, mode: 'inference' | 'train'): TfCall {
  const ins = tfInputs(tf, 11);
  const trainable: TfTensor[] = [];
  const weight = (shape: number[], lo = -0.1, hi = 0.1) => {
    const w = ins.make(shape, lo, hi);
    if (mode !== 'train') return w;
    const v = ins.own(tf.variable(w));
    trainable.push(v);
    return v;
  };
  const training = mode === 'train';
  const steps: ((h: TfTensor) => TfTensor)[] = [];
  model.layers.forEach((layer, i) => {
    const inShape = model.shapes[i];
    if (layer instanceof Conv2D) {
      const { filters, kernelSize, padding, activation } = layer.opts;
      const [f, bias] = [weight([kernelSize, kernelSize, inShape[0], filters]), weight([filters])];
      steps.push((h) => tf.fused.conv2d({ x: h, filter: f, bias, strides: 1, pad: padding, activation: activation ?? 'linear' }));
    } else if (layer instanceof BatchNorm) {
      const C = inShape[0];
      const [offset, scale] = [weight([C]), weight([C], 0.5, 1.5)];
      const eps = layer.opts.eps;
      if (training) {
        steps.push((h) => {
          const { mean, variance } = tf.moments(h, h.shape.length === 4 ? [0, 1, 2] : [0]);
          return tf.batchNorm(h, mean, variance, offset, scale, eps);
        });
      } else {
        const [mean, variance] = [ins.make([C], -0.5, 0.5), ins.make([C], 0.5, 1.5)];
        steps.push((h) => tf.batchNorm(h, mean, variance, offset, scale, eps));
      }
    } else if (layer instanceof MaxPool2D) {
      steps.push((h) => tf.maxPool(h, layer.opts.size, layer.opts.stride, layer.opts.padding));
    } else if (layer instanceof GlobalAvgPool2D) {
      steps.push((h) => tf.mean(h, [1, 2])); // NHWC: the mean over H and W
    } else if (layer instanceof ReLU) {
      steps.push((h) => tf.relu(h));
    } else if (layer instanceof Flatten) {
      steps.push((h) => h.reshape([h.shape[0], -1]));
    } else if (layer instanceof Dense) {
      const [w, bias] = [weight([inShape[0], layer.opts.units]), weight([layer.opts.units])];
      steps.push((h) => tf.fused.matMul({ a: h, b: w, bias, activation: layer.opts.activation ?? 'linear' }));
    } else if (layer instanceof Dropout) {
      if (training) steps.push((h) => tf.dropout(h, layer.rate));
    } else {
      throw new Error(`tfjs peer: no tfjs version of layer ${layer.name}`);
    }
  });
  const [channels, height, width] = model.inputShape;
  const x = ins.make([batch, height, width, channels], 0, 1);
  const forward = () => steps.reduce((h, step) => step(h), x);
  if (!training) return { call: () => tf.tidy(forward).dispose(), dispose: ins.dispose };

  const labels = Int32Array.from({ length: batch }, () => ins.rng.int(model.classes.length));
  const onehot = ins.own(tf.tidy(() => tf.oneHot(tf.tensor(labels, [batch], 'int32'), model.classes.length)));
  const adam = tf.train.adam(1e-3);
  return {
    call: () => void adam.minimize(() => tf.losses.softmaxCrossEntropy(onehot, forward()), false, trainable),
    dispose: () => {
      adam.dispose();
      ins.dispose();
    },
  };
}
