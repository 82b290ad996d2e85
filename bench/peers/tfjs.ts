// TensorFlow.js as a peer: loading its backends (pure-JS `cpu`, `wasm`, `webgpu` on the same
// Dawn adapter as ours), and our models rebuilt from their layers' Keras twins with tf.layers.
//
// Loaded by name so the bench typechecks without tfjs installed; a backend that cannot load is
// reported with its reason and left out. tfjs runs NHWC (x [N,H,W,C], filters [R,S,C,K]).
import { Random } from '../../src/backend/random.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { PeerStatus } from '../result-types.ts';

/** The part of the TensorFlow.js API used here. */
export interface TfTensor {
  shape: number[];
  dispose(): void;
  reshape(shape: number[]): TfTensor;
}
/** A tf.layers model: the part used here. */
export interface TfSequential {
  predict(x: TfTensor): TfTensor;
  apply(x: TfTensor, o: { training: boolean }): TfTensor;
  trainableWeights: { read(): TfTensor }[];
  dispose(): void;
}
export interface Tf {
  layers: Record<string, ((options: Record<string, unknown>) => unknown) | undefined>;
  sequential(config: { layers: unknown[] }): TfSequential;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  /** The WebGPU backend's internals `sync` drives; the other backends have none of them. */
  backend(): { ensureCommandEncoderReady?: () => void; endComputePassEncoder?: () => void; submitQueue?: () => void; device?: GPUDevice };
  getBackend(): string;
  version: Record<string, string>;
  tensor(values: Float32Array | Int32Array, shape: number[], dtype?: 'float32' | 'int32'): TfTensor;
  tidy<T>(fn: () => T): T;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  fused: { conv2d(o: { x: TfTensor; filter: TfTensor; strides: number; pad: 'valid' | 'same'; bias?: TfTensor }): TfTensor };
  oneHot(indices: TfTensor, depth: number): TfTensor;
  losses: { softmaxCrossEntropy(onehot: TfTensor, logits: TfTensor): TfTensor };
  train: { adam(lr: number): { minimize(f: () => TfTensor, returnCost: boolean, vars: TfTensor[]): TfTensor | null; dispose(): void } };
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
 * `model` rebuilt as a tfjs `tf.sequential` from each layer's Keras twin (Layer.keras(), so a
 * new layer type needs nothing here), tfjs's own random initial weights. tf.layers runs conv and
 * dense layers with their bias and activation fused. Inference: batch norm with running
 * statistics, dropout the identity. Training: forward with batch statistics and dropout,
 * softmax cross-entropy, gradients of every weight and Adam (tfjs's optimizer.minimize).
 */
export function tfjsModel(tf: Tf, model: Sequential, batch: number, mode: 'inference' | 'train'): TfCall {
  const ins = tfInputs(tf, 11);
  const training = mode === 'train';
  const [channels, height, width] = model.inputShape;
  const layers = model.layers.map((layer, i) => {
    const k = layer.keras();
    const factory = k && tf.layers[k.factory];
    if (!k || !factory) throw new Error(`tfjs peer: no tfjs version of layer ${layer.name}${k ? ` (tf.layers.${k.factory})` : ''}`);
    return factory({ ...k.options, ...(i === 0 ? { inputShape: [height, width, channels] } : {}) });
  });
  const net = tf.sequential({ layers });
  const x = ins.make([batch, height, width, channels], 0, 1);
  if (!training) {
    return { call: () => tf.tidy(() => net.predict(x)).dispose(), dispose: () => (net.dispose(), ins.dispose()) };
  }
  const trainable = net.trainableWeights.map((w) => w.read());
  const forward = () => net.apply(x, { training: true });

  const labels = Int32Array.from({ length: batch }, () => ins.rng.int(model.classes.length));
  const onehot = ins.own(tf.tidy(() => tf.oneHot(tf.tensor(labels, [batch], 'int32'), model.classes.length)));
  const adam = tf.train.adam(1e-3);
  return {
    call: () => void adam.minimize(() => tf.losses.softmaxCrossEntropy(onehot, forward()), false, trainable),
    dispose: () => {
      adam.dispose();
      net.dispose();
      ins.dispose();
    },
  };
}
