import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { Random } from '../../src/backend/random.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { assembleBatch } from '../../src/data/batches.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { FER_CLASSES } from '../../src/nn/models.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { Optimizer } from '../../src/train/optimizer.ts';
import { RunFolder } from '../../src/train/run-folder.ts';
import { newRunState } from '../../src/train/run-state.ts';
import { train } from '../../src/train/trainer.ts';
import { tempDir, tinySettings } from './tiny-run.ts';

// Training must LEARN: the loss has to fall and the accuracy rise well above chance (1/7) on
// faces the program draws, and the same run on shuffled labels must not get there, so a trainer
// that trains on the wrong labels (or none) fails here. About 10 s of CPU (15 epochs of 420 faces, twice).

function learner(): Sequential {
  return new Sequential(
    'learner',
    [
      new Conv2D({ filters: 8, kernelSize: 3, stride: 2, padding: 'same', activation: 'relu' }),
      new BatchNorm({ momentum: 0.9 }),
      new MaxPool2D({ size: 4 }),
      new Flatten(),
      new Dense({ units: 7 }),
    ],
    [1, 48, 48],
    FER_CLASSES,
  );
}

const trainSet = syntheticFaces({ count: 420, seed: 21 });
const valSet = syntheticFaces({ count: 140, seed: 22 });

/** The same images with the labels permuted at random: nothing left to learn that carries over. */
function shuffledLabels(ds: Dataset): Dataset {
  const labels = Uint32Array.from(ds.labels);
  new Random(5).shuffle(labels);
  // a real shuffle, not a near-identity: most images get another label
  expect(labels.filter((l, i) => l !== ds.labels[i]).length).toBeGreaterThan(ds.count / 2);
  return { ...ds, labels: Uint8Array.from(labels) } as Dataset;
}

async function fit(data: Dataset): Promise<{ valAccuracy: number; firstLoss: number; lastLoss: number }> {
  const settings = tinySettings({ epochs: 15, batchSize: 16, augment: null, plateau: null, optimizer: { kind: "adam", lr: 3e-3, momentum: 0, nesterov: false, weightDecay: 0 } });
  const model = learner().build(new Random(settings.seed), 'cpu');
  const state = newRunState(settings);
  const result = await train(RunFolder.create(tempDir('learn')), model, new Optimizer(settings.optimizer), state, { train: data, val: null });
  expect(result.outcome).toBe('finished');
  const e = await evaluate(model, valSet);
  return { valAccuracy: e.correct / e.count, firstLoss: state.log[0].trainLoss, lastLoss: state.log[state.log.length - 1].trainLoss };
}

describe('training learns', () => {
  it('synthetic faces: validation accuracy far above chance; with shuffled labels, near chance', async () => {
    const real = await fit(trainSet);
    expect(real.lastLoss).toBeLessThan(real.firstLoss * 0.9);
    expect(real.valAccuracy).toBeGreaterThan(0.45);
    const shuffled = await fit(shuffledLabels(trainSet));
    expect(shuffled.valAccuracy).toBeLessThan(0.3);
  }, 0); // no wall-clock limit: fixed seeds make it deterministic, and a loaded machine only makes it slower
});

describe('class weights in the trainer', () => {
  it('change the loss and the gradient exactly as defined: Σ w[y]·nll / Σ w[y], and the bias gradient Σ w[y]·(p − onehot) / Σ w[y]', async () => {
    // One batch of 16, one plain SGD step (no momentum, decay, augmentation or dropout): the
    // step's change of the dense bias is lr times its gradient.
    const data = { train: syntheticFaces({ count: 16, seed: 31 }), val: null };
    const weights = [0.5, 3, 1, 0.25, 2, 1.5, 0.75];
    const lr = 0.01;
    const run = async (classWeights: number[] | null) => {
      const settings = tinySettings({ epochs: 1, batchSize: 16, augment: null, plateau: null, classWeights, optimizer: { kind: 'sgd', lr, momentum: 0, nesterov: false, weightDecay: 0 } });
      const model = learner().build(new Random(3), 'cpu');
      const dense = model.layers[4] as Dense;
      const before = Float64Array.from(await dense.params()[1].value.read());
      // the logits the step sees: same weights, same batch (order does not change a sum over it)
      const { x, y } = assembleBatch(data.train, Array.from({ length: 16 }, (_, i) => i), null, null);
      const logits = await model.forward(tensor(x, [16, 1, 48, 48], 'cpu'), { training: true }).read();
      const state = newRunState(settings);
      await train(RunFolder.create(tempDir('cw')), model, new Optimizer(settings.optimizer), state, data);
      const after = await dense.params()[1].value.read();
      return { loss: state.log[0].trainLoss, db: before.map((b, c) => (b - after[c]) / lr), logits, y };
    };
    const plain = await run(null);
    const weighted = await run(weights);
    // the definition, in float64, from the logits
    const w = (c: number) => weights[c];
    let num = 0;
    let den = 0;
    const db = new Float64Array(7);
    for (let i = 0; i < 16; i++) {
      const row = Array.from(weighted.logits.subarray(i * 7, i * 7 + 7));
      const m = Math.max(...row);
      const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
      const yi = weighted.y[i];
      num += w(yi) * (m + Math.log(s) - row[yi]);
      den += w(yi);
      row.forEach((v, c) => (db[c] += w(yi) * (Math.exp(v - m) / s - (c === yi ? 1 : 0))));
    }
    expect(Math.abs(weighted.loss - num / den) / (num / den)).toBeLessThan(1e-5);
    const scale = Math.max(...db.map(Math.abs));
    for (let c = 0; c < 7; c++) expect(Math.abs(weighted.db[c] - db[c] / den) / scale).toBeLessThan(1e-3);
    // and they are not the unweighted ones
    expect(Math.abs(weighted.loss - plain.loss)).toBeGreaterThan(1e-3);
    expect(Math.max(...weighted.db.map((v, c) => Math.abs(v - plain.db[c])))).toBeGreaterThan(1e-3 * scale);
  }, 0);
});
