import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { Random } from '../../src/backend/random.ts';
import type { Shape } from '../../src/backend/tensor.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { layerFromConfig } from '../../src/nn/layer-config.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { dropoutKeep, dropoutScale } from '../../src/ops/dropout.ts';
import { expectClose } from '../support/compare.ts';
import { toF64 } from '../support/gradcheck.ts';
import { randomArray, randomInt } from '../support/random.ts';
import { float64Forward } from './float64-net.ts';
import { checkLayer, FLOAT32_TOLERANCE, float64Params } from './layer-gradcheck.ts';

describe('layer backward against float64 finite differences of the composed reference ops', () => {
  const convCases: [string, ConstructorParameters<typeof Conv2D>[0], Shape, number][] = [
    ['3×3 same + relu, batch 1', { filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }, [2, 5, 6], 1],
    ['3×3 valid + relu, odd sizes', { filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu' }, [3, 7, 5], 3],
    ['2×2 stride 2 same, no activation', { filters: 2, kernelSize: 2, stride: 2, padding: 'same', activation: null }, [2, 5, 5], 2],
  ];
  for (const [what, opts, shape, N] of convCases) {
    it(`Conv2D ${what}: dx, weight, bias`, async () => {
      await checkLayer(new Conv2D(opts), 'conv2d', shape, N);
    });
  }

  it('Dense + relu: dx, weight, bias (batch 4, 9 → 5)', async () => {
    await checkLayer(new Dense({ units: 5, activation: 'relu' }), 'dense', [9], 4);
  });

  it('Dense without activation, batch 1', async () => {
    await checkLayer(new Dense({ units: 3 }), 'dense', [7], 1);
  });

  it('BatchNorm in training mode after a conv [C,H,W]: dx through the batch statistics, gamma, beta', async () => {
    await checkLayer(new BatchNorm(), 'batch_normalization', [3, 3, 4], 2);
  });

  it('BatchNorm in training mode after a dense layer [F], momentum 0.9', async () => {
    await checkLayer(new BatchNorm({ momentum: 0.9 }), 'batch_normalization', [5], 6);
  });

  it('MaxPool2D 2×2 on odd sizes (the last row and column dropped)', async () => {
    await checkLayer(new MaxPool2D({ size: 2 }), 'max_pooling2d', [2, 5, 7], 2);
  });

  it('MaxPool2D 3×3 stride 2 same (overlapping windows), batch 1', async () => {
    await checkLayer(new MaxPool2D({ size: 3, stride: 2, padding: 'same' }), 'max_pooling2d', [2, 6, 5], 1);
  });

  it('Flatten', async () => {
    await checkLayer(new Flatten(), 'flatten', [2, 3, 4], 3);
  });

  it('Dropout 0.5 with a fixed seed', async () => {
    await checkLayer(new Dropout(0.5), 'dropout', [4, 3, 3], 2);
  });
});

describe('layer behaviour', () => {
  it('Dropout: the mask is the one the seed draws, kept values scaled by 1/(1 − rate); inference is the identity', async () => {
    const layer = new Dropout(0.3);
    layer.name = 'dropout';
    const x = randomArray(200);
    const seed = randomInt(0, 2 ** 31);
    const y = await layer.forward(tensor(x, [4, 50], 'cpu'), { training: true, rng: new Random(seed) }).read();
    const maskSeed = new Random(seed).seed();
    let dropped = 0;
    for (let i = 0; i < x.length; i++) {
      const keep = dropoutKeep(maskSeed, i, 0.3);
      expect(y[i]).toBe(keep ? Math.fround(x[i] * dropoutScale(0.3)) : 0);
      if (!keep) dropped++;
    }
    // 200 draws at p = 0.3: mean 60, sd 6.5; outside 20..100 has probability below 1e-9.
    expect(dropped).toBeGreaterThan(20);
    expect(dropped).toBeLessThan(100);
    const inference = tensor(x, [4, 50], 'cpu');
    expect(layer.forward(inference, { training: false })).toBe(inference);
    expect(() => new Dropout(1)).toThrow(/Dropout: rate must be in \[0, 1\), got 1/);
  });

  it('BatchNorm: training moves the running statistics (unbiased variance); inference uses them', async () => {
    const layer = new BatchNorm({ momentum: 0.8 });
    layer.name = 'batch_normalization';
    const shape: Shape = [3, 2, 3];
    layer.build(shape, new Random(0), 'cpu');
    // Start from non-trivial parameters, as some way into training.
    for (const p of layer.params()) {
      const v = p.name.endsWith('var') ? randomArray(3, 0.5, 2) : randomArray(3);
      p.value = tensor(v, [3], 'cpu');
    }
    const before = await float64Params([layer]);
    const N = 4;
    const x = randomArray(N * 18);
    layer.forward(tensor(x, [N, ...shape], 'cpu'), { training: true });
    // Expected running statistics, in float64 from the batch.
    const M = N * 6;
    for (let c = 0; c < 3; c++) {
      const vals: number[] = [];
      for (let n = 0; n < N; n++) for (let s = 0; s < 6; s++) vals.push(x[(n * 3 + c) * 6 + s]);
      const mean = vals.reduce((a, b) => a + b, 0) / M;
      const unbiased = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (M - 1);
      const rm = (await layer.runningMean!.value.read())[c];
      const rv = (await layer.runningVar!.value.read())[c];
      expect(rm).toBeCloseTo(0.8 * before.get('batch_normalization.running_mean')![c] + 0.2 * mean, 5);
      expect(rv).toBeCloseTo(0.8 * before.get('batch_normalization.running_var')![c] + 0.2 * unbiased, 5);
    }
    const after = await float64Params([layer]);
    const y = await layer.forward(tensor(x, [N, ...shape], 'cpu'), { training: false }).read();
    const want = float64Forward([layer], [shape, shape], after, toF64(x), N, { training: false }).y;
    expectClose(y, want, FLOAT32_TOLERANCE, 'inference forward');
  });

  it('backward without a training forward is a clear error; an inference forward caches nothing', () => {
    const conv = new Conv2D({ filters: 2, kernelSize: 3 });
    conv.name = 'conv2d_3';
    conv.build([1, 4, 4], new Random(1), 'cpu');
    const dy = tensor(randomArray(8), [1, 2, 2, 2], 'cpu');
    expect(() => conv.backward(dy, true)).toThrow(/conv2d_3: backward\(\) without a training forward\(\) \(no cached input\)/);
    conv.forward(tensor(randomArray(16), [1, 1, 4, 4], 'cpu'), { training: false });
    expect(() => conv.backward(dy, true)).toThrow(/no cached input/);
    const drop = new Dropout(0.5);
    drop.name = 'dropout';
    expect(() => drop.forward(dy, { training: true })).toThrow(/dropout: training forward needs ctx.rng/);
  });

  it('backward with needInputGrad false still sets the parameter gradients and returns null', async () => {
    const dense = new Dense({ units: 3, activation: 'relu' });
    dense.name = 'dense';
    dense.build([4], new Random(2), 'cpu');
    dense.forward(tensor(randomArray(8), [2, 4], 'cpu'), { training: true });
    expect(dense.backward(tensor(randomArray(6), [2, 3], 'cpu'), false)).toBeNull();
    expect(dense.weight!.grad!.shape).toEqual([3, 4]);
    expect(dense.bias!.grad!.shape).toEqual([3]);
  });

  it('Dense without Flatten before it says so', () => {
    const dense = new Dense({ units: 3 });
    dense.name = 'dense_2';
    expect(() => dense.outputShape([2, 3, 3])).toThrow(/dense_2: Dense needs a flat input, got \[2,3,3\] \(add Flatten\)/);
  });

  it('config() rebuilds an equal layer (what model files store)', () => {
    const layers = [
      new Conv2D({ filters: 5, kernelSize: 3, stride: 2, padding: 'same', activation: 'relu' }),
      new Dense({ units: 4 }),
      new BatchNorm({ momentum: 0.9, eps: 1e-5 }),
      new MaxPool2D({ size: 3, stride: 2, padding: 'same' }),
      new Flatten(),
      new Dropout(0.25),
    ];
    for (const l of layers) expect(layerFromConfig(JSON.parse(JSON.stringify(l.config()))).config()).toEqual(l.config());
  });
});
