// The Train tab's worker: loads the data, builds the network and trains it with the engine
// (./engine.js, the same module any page can import), so the page stays responsive. It posts
// every step's loss and accuracy, the validation accuracy, the first layer's filters and the
// per-layer times; it pauses, resumes, and hands back the model as a safetensors file.
import {
  adam, BatchNorm, Conv2D, Dense, Dropout, evaluate, Flatten, MaxPool2D, modelFromSpec, modelToBytes, Random, scope, Sequential,
  sgd, syntheticFaces, trainStep, useBackend, FER_CLASSES, PIXELS, createModel, mixSeed, tensor,
  type BackendName, type Dataset, type Optimizer, type WebGpuBackend,
} from '../engine.ts';
import { loadCsvFile, loadImageFiles } from './train-data.ts';
import type { FromWorker, TrainConfig, ToWorker } from './train-protocol.ts';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/** The networks the page offers: `tiny` learns drawn faces in a minute on a CPU; `small` is the CLI's model. */
export function pageNetwork(name: string): Sequential {
  if (name === 'small') return createModel('small');
  if (name !== 'tiny') throw new Error(`unknown network "${name}"`);
  const bn = () => new BatchNorm({ momentum: 0.9 });
  return new Sequential('tiny', [
    new Conv2D({ filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' }), bn(), new MaxPool2D({ size: 2 }),
    new Conv2D({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }), bn(), new MaxPool2D({ size: 2 }),
    new MaxPool2D({ size: 2 }), new Flatten(), new Dropout(0.2), new Dense({ units: FER_CLASSES.length }),
  ], [1, 48, 48], FER_CLASSES);
}

let paused = false;
let wake: (() => void) | null = null;
let model: Sequential | null = null;
let description = '';

async function loadData(cfg: TrainConfig): Promise<{ train: Dataset; val: Dataset }> {
  if (cfg.source.kind === 'synthetic') {
    const { count, seed } = cfg.source;
    description = `synthetic (${count} drawn faces, seed ${seed})`;
    // The validation faces as `fer train` draws them: another seed, a fifth as many.
    return { train: syntheticFaces({ count, seed }), val: syntheticFaces({ count: Math.max(70, Math.round(count / 5)), seed: seed + 1_000_003 }) };
  }
  const loaded = cfg.source.kind === 'csv' ? await loadCsvFile(cfg.source.file, (n) => post({ type: 'loading', images: n })) : await loadImageFiles(cfg.source.files, (n) => post({ type: 'loading', images: n }));
  description = `FER2013 (${cfg.source.kind === 'csv' ? cfg.source.file.name : 'image folder'}, in the browser)`;
  return loaded;
}

/**
 * Forward and backward time of each layer at this batch size, on a copy of the network (its
 * batch-norm statistics and dropout draws must not disturb the real one). Each layer runs
 * alone between GPU syncs, so the times are the kernels' and not just their recording.
 */
async function profile(spec: ReturnType<Sequential['spec']>, backend: BackendName, gpu: WebGpuBackend | null, batch: number) {
  const copy = modelFromSpec(spec).build(new Random(1), backend);
  const rows: { name: string; type: string; forwardMs: number; backwardMs: number }[] = [];
  let x = tensor(new Float32Array(batch * PIXELS).fill(0.5), [batch, 1, 48, 48], backend);
  const ctx = { training: true, rng: new Random(2) };
  try {
    for (const layer of copy.layers) {
      await gpu?.sync();
      const t0 = performance.now();
      const y = scope(() => layer.forward(x, ctx));
      await gpu?.sync();
      const t1 = performance.now();
      scope(() => {
        const out = layer.forward(x, ctx);
        layer.backward(tensor(new Float32Array(out.size).fill(1e-3), out.shape, backend), true);
      });
      await gpu?.sync();
      const t2 = performance.now();
      for (const p of layer.params()) p.grad = null;
      rows.push({ name: layer.name, type: layer.type, forwardMs: t1 - t0, backwardMs: Math.max(0, t2 - t1 - (t1 - t0)) });
      if (y !== x) x.dispose();
      x = y;
    }
  } finally {
    x.dispose();
    copy.dispose();
  }
  return rows;
}

async function firstFilters(m: Sequential): Promise<void> {
  const conv = m.layers.find((l) => l instanceof Conv2D) as Conv2D | undefined;
  if (!conv?.weight) return;
  const data = await conv.weight.value.read();
  post({ type: 'filters', shape: [...conv.weight.value.shape], data }, [data.buffer]);
}

async function run(cfg: TrainConfig): Promise<void> {
  const chosen = await useBackend(cfg.backend);
  post({ type: 'backend', backend: chosen.backend, reason: chosen.reason });
  const { train, val } = await loadData(cfg);
  post({ type: 'data', train: train.count, val: val.count, description });
  if (train.count < cfg.batchSize) throw new Error(`the data has ${train.count} training images, fewer than one batch of ${cfg.batchSize}`);
  model = pageNetwork(cfg.network).build(new Random(cfg.seed), chosen.backend);
  const opt: Optimizer = cfg.optimizer === 'sgd' ? sgd({ lr: cfg.lr, momentum: 0.9 }) : adam({ lr: cfg.lr });
  await firstFilters(model);
  post({ type: 'timing', rows: await profile(model.spec(), chosen.backend, chosen.gpu, cfg.batchSize) });
  const B = cfg.batchSize;
  const rng = new Random(mixSeed(cfg.seed, 7));
  const order = Uint32Array.from({ length: train.count }, (_, i) => i);
  let pos = train.count;
  const x = new Float32Array(B * PIXELS);
  const y = new Float32Array(B);
  for (let step = 1; step <= cfg.steps; step++) {
    // On the CPU path every await in a step settles as a microtask, so without a macrotask here
    // the worker would never see a pause or save message until training ended.
    await new Promise<void>((r) => setTimeout(r, 0));
    if (paused) {
      post({ type: 'paused', step: step - 1 });
      await new Promise<void>((r) => (wake = r));
    }
    if (pos + B > train.count) {
      rng.shuffle(order);
      pos = 0;
    }
    for (let b = 0; b < B; b++) {
      const i = order[pos + b];
      y[b] = train.labels[i];
      for (let p = 0; p < PIXELS; p++) x[b * PIXELS + p] = train.images[i * PIXELS + p] / 255;
    }
    pos += B;
    const t0 = performance.now();
    const r = await trainStep(model, opt, x, y, { rng: new Random(mixSeed(cfg.seed, step, 2)) });
    if (!Number.isFinite(r.loss)) throw new Error(`the loss became ${r.loss} at step ${step}: lower the learning rate`);
    post({ type: 'step', step, loss: r.loss, accuracy: r.correct / r.count, ms: performance.now() - t0 });
    if (step % cfg.evalEvery === 0 || step === cfg.steps) {
      const ev = await evaluate(model, val);
      post({ type: 'val', step, loss: ev.loss, accuracy: ev.correct / ev.count, correct: ev.correct, count: ev.count });
      await firstFilters(model);
      // Measured again once the kernels are compiled: the first table includes pipeline creation.
      if (step === cfg.evalEvery) post({ type: 'timing', rows: await profile(model.spec(), chosen.backend, chosen.gpu, cfg.batchSize) });
    }
  }
  post({ type: 'done' });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'start') {
    run(m.config).catch((err: Error) => post({ type: 'error', message: err.message }));
  } else if (m.type === 'pause') {
    paused = true;
  } else if (m.type === 'resume') {
    paused = false;
    wake?.();
    wake = null;
  } else if (m.type === 'save') {
    if (!model) return post({ type: 'error', message: 'nothing to save: training has not started' });
    // `data` says what it learned from; fer eval and loadModel show a caveat unless it is FER2013.
    modelToBytes(model, { data: description, trainedIn: 'the fer-webgpu Train tab' })
      .then((bytes) => post({ type: 'saved', bytes }, [bytes.buffer]))
      .catch((err: Error) => post({ type: 'error', message: err.message }));
  }
};
