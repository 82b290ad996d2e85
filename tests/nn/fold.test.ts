import { describe, expect, it } from 'vitest';
import { debug } from '../../src/backend/backends.ts';
import { tensor } from '../../src/backend/create.ts';
import { Random } from '../../src/backend/random.ts';
import { scope } from '../../src/backend/scope.ts';
import type { BackendName } from '../../src/backend/tensor.ts';
import { ReLU } from '../../src/nn/activation.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { foldForInference } from '../../src/nn/fold.ts';
import { FusedConv2D, FusedDense } from '../../src/nn/fused-layers.ts';
import { createModel } from '../../src/nn/models.ts';
import { GlobalAvgPool2D, MaxPool2D } from '../../src/nn/pooling.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { expectClose, GPU_TOLERANCE, relativeError } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { SLOW } from '../support/requires.ts';
import { randomArray, randomInt } from '../support/random.ts';
import { setParamValue } from './layer-gradcheck.ts';

/**
 * Folded against unfolded, same backend. Both run the very same float32 products; they differ
 * only after each product: the folded model rounds relu(z)·scale + shift once, with scale and
 * shift rounded to float32 from float64, where the unfolded one rounds the relu output and then
 * γ·(x − mean)·invStd + β. That is a few units of float32 roundoff (6e-8) per folded layer,
 * relative to the layer's output, carried through at most ten layers. Measured (each test
 * prints it): up to 1.5e-7 of the largest logit on the CPU and 6e-7 on WebGPU (fma
 * there). 1e-5 leaves a factor 15 over the worst; a batch norm dropped, applied twice, before
 * the relu or with a wrong sign errs by order 1 (checked by breaking the fold
 * on purpose while writing these tests).
 */
const FOLD_TOLERANCE = 1e-5;

/**
 * Every case the fold meets: conv-relu-BN (the models' pattern), a conv with no activation
 * before its BN, a second BN in a row (copied as it is), a conv-relu with no BN, dense-relu-BN,
 * dropouts and a plain classifier.
 */
function tinyModel(): Sequential {
  return new Sequential(
    'tiny',
    [
      new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new BatchNorm(),
      new MaxPool2D({ size: 2 }),
      new Conv2D({ filters: 5, kernelSize: 3, padding: 'same' }),
      new BatchNorm(),
      new BatchNorm({ eps: 0.01 }),
      new Conv2D({ filters: 3, kernelSize: 2, activation: 'relu' }),
      new Flatten(),
      new Dropout(0.3),
      new Dense({ units: 8, activation: 'relu' }),
      new BatchNorm({ momentum: 0.9 }),
      new Dropout(0.2),
      new Dense({ units: 7 }),
    ],
    [2, 9, 9],
    ['0', '1', '2', '3', '4', '5', '6'],
  );
}

/**
 * Parameters as after some training, not the defaults: biases and β away from 0, running means
 * away from 0, variances away from 1, and γ of both signs (a negative γ is what makes the order
 * relu-then-BN matter).
 */
function randomizeParams(model: Sequential): void {
  for (const p of model.params()) {
    const role = p.name.slice(p.name.lastIndexOf('.') + 1);
    if (role === 'weight') continue;
    const n = p.value.size;
    setParamValue(
      p,
      role === 'gamma' ? randomArray(n, -1.5, 1.5) : role === 'running_var' ? randomArray(n, 0.2, 2) : role === 'running_mean' ? randomArray(n, -0.5, 0.5) : randomArray(n, -0.3, 0.3),
    );
  }
}

async function built(make: () => Sequential, backend: BackendName): Promise<Sequential> {
  const model = make().build(new Random(randomInt(0, 2 ** 31)), 'cpu');
  randomizeParams(model);
  if (backend !== 'cpu') await model.moveTo(backend);
  return model;
}

async function logits(model: Sequential, x: Float32Array, n: number): Promise<Float32Array> {
  const y = scope(() => model.forward(tensor(x, [n, ...model.inputShape], model.backend), { training: false }));
  const out = await y.read();
  y.dispose();
  return out;
}

async function snapshot(model: Sequential): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(model.params().map(async (p) => [p.name, await p.value.read()] as const)));
}

/** Folds `model` and checks the folded logits against the unfolded ones on a random batch of n. */
async function expectSameOutputs(model: Sequential, n: number): Promise<Sequential> {
  const before = await snapshot(model);
  const folded = await foldForInference(model);
  const x = randomArray(n * model.inputShape.reduce((a, b) => a * b), 0, 1);
  const want = await logits(model, x, n);
  const got = await logits(folded, x, n);
  const err = relativeError(got, want);
  console.log(`[fold] ${model.name} on ${model.backend}, batch ${n}: folded vs unfolded ${err.toExponential(2)}`);
  expectClose(got, want, FOLD_TOLERANCE, `${model.name} folded on ${model.backend}`);
  // The original's parameters are untouched, and its running statistics were not the defaults.
  expect(await snapshot(model)).toEqual(before);
  return folded;
}

describe('foldForInference: same outputs as the unfolded model in inference mode', () => {
  for (const n of [1, 3]) {
    it(`tiny model with every pattern, CPU, batch ${n}`, async () => {
      const model = await built(tinyModel, 'cpu');
      const folded = await expectSameOutputs(model, n);
      expect(folded.layers.map((l) => l.type)).toEqual([
        'FusedConv2D', 'MaxPool2D', 'FusedConv2D', 'BatchNorm', 'FusedConv2D', 'Flatten', 'Dropout', 'FusedDense', 'Dropout', 'FusedDense',
      ]);
      const fused = folded.layers.filter((l): l is FusedConv2D | FusedDense => l instanceof FusedConv2D || l instanceof FusedDense);
      expect(fused.map((l) => [l.relu, l.folded])).toEqual([
        [true, ['conv2d', 'batch_normalization']],
        [false, ['conv2d_1', 'batch_normalization_1']],
        [true, ['conv2d_2']],
        [true, ['dense', 'batch_normalization_3']],
        [false, ['dense_1']],
      ]);
    });
  }

  it('conv → BN → ReLU and dense → BN → ReLU (the vgg order): the batch norm goes into the weights, the relu into the store', async () => {
    // γ of both signs (randomizeParams): with the relu after the batch norm the fold is exact
    // either way; applying the relu before the scale, or dropping it, errs by order 1.
    const make = () =>
      new Sequential(
        'conv-bn-relu',
        [
          new Conv2D({ filters: 4, kernelSize: 3, padding: 'same' }),
          new BatchNorm({ momentum: 0.9 }),
          new ReLU(),
          new MaxPool2D({ size: 2 }),
          new Conv2D({ filters: 6, kernelSize: 3, padding: 'same' }),
          new BatchNorm({ eps: 0.01 }),
          new ReLU(),
          new GlobalAvgPool2D(),
          new Dense({ units: 5 }),
          new BatchNorm(),
          new ReLU(),
          new Dense({ units: 7 }),
        ],
        [1, 10, 10],
        ['0', '1', '2', '3', '4', '5', '6'],
      );
    for (const n of [1, 3]) {
      const model = await built(make, 'cpu');
      const gammas = await Promise.all(model.params().filter((p) => p.name.endsWith('gamma')).map((p) => p.value.read()));
      expect(gammas.some((g) => g.some((v) => v < 0)) && gammas.some((g) => g.some((v) => v > 0))).toBe(true);
      const folded = await expectSameOutputs(model, n);
      expect(folded.layers.map((l) => l.type)).toEqual(['FusedConv2D', 'MaxPool2D', 'FusedConv2D', 'GlobalAvgPool2D', 'FusedDense', 'FusedDense']);
      const fused = folded.layers.filter((l): l is FusedConv2D | FusedDense => l instanceof FusedConv2D || l instanceof FusedDense);
      expect(fused.map((l) => [l.relu, l.folded])).toEqual([
        [true, ['conv2d', 'batch_normalization', 're_lu']],
        [true, ['conv2d_1', 'batch_normalization_1', 're_lu_1']],
        [true, ['dense', 'batch_normalization_2', 're_lu_2']],
        [false, ['dense_1']],
      ]);
    }
  });

  it('vgg model (conv-BN-ReLU ×8, 40×40 crops), CPU, batch 1', async () => {
    const folded = await expectSameOutputs(await built(() => createModel('vgg'), 'cpu'), 1);
    expect(folded.layers.filter((l) => l instanceof FusedConv2D).length).toBe(8);
    expect(folded.layers.some((l) => l instanceof BatchNorm || l instanceof ReLU)).toBe(false);
  });

  it('small model (the shipped architecture), CPU, batch 2', async () => {
    await expectSameOutputs(await built(() => createModel('small'), 'cpu'), 2);
  });

  it('seed model, CPU, batch 1', async () => {
    const folded = await expectSameOutputs(await built(() => createModel('seed'), 'cpu'), 1);
    // Six conv-relu-BN and three dense-relu-BN pairs become nine layers; the classifier a tenth.
    expect(folded.layers.filter((l) => l instanceof FusedConv2D).length).toBe(6);
    expect(folded.layers.filter((l) => l instanceof FusedDense).length).toBe(4);
    expect(folded.layers.some((l) => l instanceof BatchNorm)).toBe(false);
  });

  for (const n of [1, 3]) {
    it.skipIf(!gpu)(`tiny model, WebGPU, batch ${n}: against the unfolded model there and the CPU`, async () => {
      const model = await built(tinyModel, 'webgpu');
      const folded = await expectSameOutputs(model, n);
      const onCpu = await foldForInference(model);
      await onCpu.moveTo('cpu');
      const x = randomArray(n * 2 * 81, 0, 1);
      expectClose(await logits(folded, x, n), await logits(onCpu, x, n), GPU_TOLERANCE, 'folded, WebGPU against CPU');
    });
  }

  it.skipIf(!gpu)('small model, WebGPU, batch 2; one dispatch per fused layer', async () => {
    const model = await built(() => createModel('small'), 'webgpu');
    const folded = await expectSameOutputs(model, 2);
    const x = randomArray(2 * 48 * 48, 0, 1);
    const count = (m: Sequential) => {
      // Poisoning fills every new output with a kernel of its own: off while counting.
      debug.poison = false;
      const before = gpu!.dispatches;
      scope(() => m.forward(tensor(x, [2, 1, 48, 48], 'webgpu'), { training: false })).dispose();
      debug.poison = true;
      return gpu!.dispatches - before;
    };
    // Four conv-relu-BN and one dense-relu-BN: the layers already fuse their relu, so folding
    // saves the batch-norm dispatch of each.
    expect(count(model) - count(folded)).toBe(5);
  });

  it.runIf(gpu && SLOW)('seed model, WebGPU, batch 1 (FER_SLOW_TESTS=1, on by default under CI)', async () => {
    await expectSameOutputs(await built(() => createModel('seed'), 'webgpu'), 1);
  });
});

describe('foldForInference: an inference-only copy', () => {
  it('owns its tensors: disposing it leaves the original working, and the reverse', async () => {
    const model = await built(tinyModel, 'cpu');
    const x = randomArray(2 * 81, 0, 1);
    const want = await logits(model, x, 1);
    const folded = await foldForInference(model);
    const mine = new Set(model.params().map((p) => p.value.storage));
    expect(folded.params().some((p) => mine.has(p.value.storage))).toBe(false);
    folded.dispose();
    expect(await logits(model, x, 1)).toEqual(want);
    const again = await foldForInference(model);
    model.dispose();
    expectClose(await logits(again, x, 1), want, FOLD_TOLERANCE, 'folded after the original was disposed');
  });

  it('names its tensors by layer and leaves the original layer names alone', async () => {
    const model = await built(tinyModel, 'cpu');
    const names = model.layers.map((l) => l.name);
    const folded = await foldForInference(model);
    expect(model.layers.map((l) => l.name)).toEqual(names);
    expect(folded.params().slice(0, 4).map((p) => p.name)).toEqual(['fusedconv2d.weight', 'fusedconv2d.bias', 'fusedconv2d.scale', 'fusedconv2d.shift']);
    // The fused layers' tensors are not for training; the copied lone BatchNorm is a BatchNorm.
    const fused = folded.layers.filter((l) => l instanceof FusedConv2D || l instanceof FusedDense);
    expect(fused.flatMap((l) => l.params()).every((p) => !p.trainable)).toBe(true);
  });

  it('refuses to train, with a one-line error', async () => {
    const folded = await foldForInference(await built(tinyModel, 'cpu'));
    const x = tensor(randomArray(2 * 81, 0, 1), [1, 2, 9, 9], 'cpu');
    expect(() => folded.forward(x, { training: true, rng: new Random(1) })).toThrow(
      /^fusedconv2d: a layer folded for inference cannot train \(train the unfolded model\)$/,
    );
    expect(() => folded.layers[0].backward(x, true)).toThrow(/^fusedconv2d: a layer folded for inference has no backward \(train the unfolded model\)$/);
  });
});
