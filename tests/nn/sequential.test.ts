import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { createModel } from '../../src/nn/models.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { softmaxCrossEntropy, softmaxCrossEntropyRef } from '../../src/ops/softmax-cross-entropy.ts';
import { expectClose, relativeError } from '../support/compare.ts';
import { GRAD_TOLERANCE, numericalGradient, toF64 } from '../support/gradcheck.ts';
import { randomInt } from '../support/random.ts';
import { float64Backward, float64Forward } from './float64-net.ts';
import { drawInput, FLOAT32_TOLERANCE, float64Params, randomizeParams, STEP } from './layer-gradcheck.ts';

/**
 * Through the whole model the float32 rounding of the layers is amplified by the two batch-norm
 * backward passes: their dx is a difference of nearly equal terms (it sums to zero over the
 * batch by construction), so the error relative to the result grows by that cancellation.
 * Measured over 600 random draws of this model: at most 1.05e-5 normwise per layer. 1e-4 is
 * ten times that; wiring errors (a gradient sent to the wrong layer, a missing mask) err by
 * order 1. Each layer's parameters are compared together (weight and bias, gamma and beta):
 * a bias feeding batch norm has a gradient that cancels to almost nothing by itself, where
 * only the layer's scale says what float32 noise is.
 */
const MODEL_TOLERANCE = 1e-4;

/** Every layer type, two convolutions (so a conv's dx is exercised), batch norm in both layouts. */
function tinyModel(): Sequential {
  return new Sequential(
    'tiny',
    [
      new Conv2D({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new BatchNorm(),
      new MaxPool2D({ size: 2 }),
      new Conv2D({ filters: 2, kernelSize: 2, activation: 'relu' }),
      new Flatten(),
      new Dropout(0.25),
      new Dense({ units: 6, activation: 'relu' }),
      new BatchNorm({ momentum: 0.9 }),
      new Dense({ units: 3 }),
    ],
    [1, 7, 7],
    ['a', 'b', 'c'],
  );
}

describe('Sequential end to end: softmax cross-entropy gradients of every parameter', () => {
  it('match float64 finite differences of the composed reference ops (training mode, dropout on)', async () => {
    const model = tinyModel().build(new Random(randomInt(0, 2 ** 31)), 'cpu');
    randomizeParams(model.layers);
    const N = 5;
    const K = 3;
    const params = await float64Params(model.layers);
    const dropSeed = randomInt(0, 2 ** 31);
    const x = drawInput(model.layers, model.shapes, params, N, dropSeed);
    const labels = Float32Array.from({ length: N }, () => randomInt(0, K - 1));
    const x64 = toF64(x);
    const lossOf = () => {
      const z = float64Forward(model.layers, model.shapes, params, x64, N, { training: true, rng: new Random(dropSeed) }).y;
      return softmaxCrossEntropyRef(z, toF64(labels), null, N, K, new Float64Array(N * K));
    };

    const logits = model.forward(tensor(x, [N, 1, 7, 7], 'cpu'), { training: true, rng: new Random(dropSeed) });
    const { loss, dlogits } = softmaxCrossEntropy(logits, tensor(labels, [N], 'cpu'));
    expectClose(await loss.read(), [lossOf()], FLOAT32_TOLERANCE, 'loss');
    model.backward(dlogits);

    const trainable = model.params().filter((p) => p.trainable);
    expect(trainable.map((p) => p.name)).toEqual([
      'conv2d.weight', 'conv2d.bias',
      'batch_normalization.gamma', 'batch_normalization.beta',
      'conv2d_1.weight', 'conv2d_1.bias',
      'dense.weight', 'dense.bias',
      'batch_normalization_1.gamma', 'batch_normalization_1.beta',
      'dense_1.weight', 'dense_1.bias',
    ]);
    for (const layer of model.layers) {
      const ps = layer.params().filter((p) => p.trainable);
      if (ps.length === 0) continue;
      const analytic: number[] = [];
      const numeric: number[] = [];
      for (const p of ps) {
        expect(p.grad, `${p.name} has a gradient`).not.toBeNull();
        expect(p.grad!.shape).toEqual(p.value.shape);
        analytic.push(...(await p.grad!.read()));
        numeric.push(...numericalGradient(params.get(p.name)!, lossOf, STEP));
      }
      const err = relativeError(analytic, numeric);
      expect(err, `${layer.name}: parameter gradients' relative error ${err.toExponential(2)}`).toBeLessThanOrEqual(MODEL_TOLERANCE);
    }
    for (const p of model.params().filter((q) => !q.trainable)) expect(p.grad, `${p.name} is not trained`).toBeNull();
  });

  it('the float64 backward twin (what the seed-model test measures rounding against) gives the finite differences', async () => {
    const model = tinyModel().build(new Random(randomInt(0, 2 ** 31)), 'cpu');
    randomizeParams(model.layers);
    const N = 4;
    const K = 3;
    const params = await float64Params(model.layers);
    const dropSeed = randomInt(0, 2 ** 31);
    const x64 = toF64(drawInput(model.layers, model.shapes, params, N, dropSeed));
    const labels = Float64Array.from({ length: N }, () => randomInt(0, K - 1));
    const forward = () => float64Forward(model.layers, model.shapes, params, x64, N, { training: true, rng: new Random(dropSeed) });
    const lossOf = () => softmaxCrossEntropyRef(forward().y, labels, null, N, K, new Float64Array(N * K));
    const pass = forward();
    const dz = new Float64Array(N * K);
    softmaxCrossEntropyRef(pass.y, labels, null, N, K, dz);
    const grads = float64Backward(model.layers, model.shapes, params, pass, N, dz);
    expect([...grads.keys()].sort()).toEqual(model.params().filter((p) => p.trainable).map((p) => p.name).sort());
    // All float64 now, so GRAD_TOLERANCE; per layer, for the reason given at MODEL_TOLERANCE.
    for (const layer of model.layers) {
      const names = layer.params().filter((p) => p.trainable).map((p) => p.name);
      if (names.length === 0) continue;
      const analytic = names.flatMap((n) => Array.from(grads.get(n)!));
      const numeric = names.flatMap((n) => Array.from(numericalGradient(params.get(n)!, lossOf, STEP)));
      const err = relativeError(analytic, numeric);
      expect(err, `${layer.name}: float64 backward relative error ${err.toExponential(2)}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
    }
  });
});

describe('Sequential', () => {
  it('names layers as Keras does and records every shape', () => {
    const m = tinyModel();
    expect(m.layers.map((l) => l.name)).toEqual([
      'conv2d', 'batch_normalization', 'max_pooling2d', 'conv2d_1', 'flatten', 'dropout', 'dense', 'batch_normalization_1', 'dense_1',
    ]);
    expect(m.shapes).toEqual([[1, 7, 7], [3, 7, 7], [3, 7, 7], [3, 3, 3], [2, 2, 2], [8], [8], [6], [6], [3]]);
  });

  it('seed has the Keras network\'s 2,137,991 parameters and 1.50 G multiply-adds; small about 25 M', () => {
    const seed = createModel('seed').build(new Random(1), 'cpu');
    const s = seed.summary();
    expect(s.total).toBe(2_137_991);
    // Keras counts the four batch-norm vectors per channel; two of them are not trained.
    const bnChannels = 2 * (256 + 128 + 64) + 512 + 256 + 128;
    expect(s.nonTrainable).toBe(2 * bnChannels);
    expect(s.macs / 1e9).toBeCloseTo(1.5, 1);
    expect(seed.shapes[seed.shapes.length - 2]).toEqual([128]);
    const small = createModel('small').build(new Random(1), 'cpu');
    expect(small.summary().macs / 1e6).toBeGreaterThan(20);
    expect(small.summary().macs / 1e6).toBeLessThan(30);
    expect(() => createModel('big')).toThrow(/unknown model "big": choose seed, small or vgg/);
  });

  it('refuses bad input with one line: wrong shape, disposed, other backend, classes that do not fit', () => {
    const m = tinyModel().build(new Random(3), 'cpu');
    const oneLine = (f: () => unknown, re: RegExp) => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FerError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    };
    oneLine(() => m.forward(tensor(new Float32Array(2 * 49), [2, 49], 'cpu'), { training: false }), /tiny: input has shape \[2,49\], wanted \[N,1,7,7\]/);
    oneLine(() => m.forward(tensor(new Float32Array(98), [2, 1, 7, 7], 'cpu').reshape([1, 2, 7, 7]), { training: false }), /wanted \[N,1,7,7\]/);
    const gone = tensor(new Float32Array(49), [1, 1, 7, 7], 'cpu');
    gone.dispose();
    oneLine(() => m.forward(gone, { training: false }), /tiny: x \[1,1,7,7\] was disposed/);
    oneLine(() => new Sequential('bad', [new Flatten(), new Dense({ units: 4 })], [1, 3, 3], ['a', 'b']), /model bad: output shape \[4\] does not match 2 classes/);
  });
});
