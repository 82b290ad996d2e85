import { tensor } from '../backend/create.ts';
import { scope } from '../backend/scope.ts';
import type { Dataset } from '../data/dataset.ts';
import { classProbabilities } from '../nn/flip-average.ts';
import type { Sequential } from '../nn/sequential.ts';
import { argmaxRows } from '../ops/reduce.ts';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.ts';
import { assembleBatch } from '../data/batches.ts';
import { emptyConfusion } from './metrics.ts';
import type { TestTime } from '../nn/test-time.ts';

export interface Evaluation {
  loss: number;
  confusion: number[][];
  count: number;
  correct: number;
}

export interface EvaluateOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Horizontal-flip test-time augmentation: each image's class probabilities averaged with its mirror's. */
  flip?: boolean;
  /** Which views to average (nn/test-time.ts); overrides `flip`. Models that read crops see centre crops with 'none'. */
  testTime?: TestTime;
}

/** Mean cross-entropy and predicted classes of one batch, the plain way: logits → fused loss, argmax. */
async function scoreLogits(model: Sequential, x: Float32Array, y: Float32Array, n: number) {
  const out = scope(() => {
    const logits = model.forward(tensor(x, [n, ...model.inputShape], model.backend), { training: false });
    const labels = tensor(y, [n], model.backend);
    return { loss: softmaxCrossEntropy(logits, labels).loss, pred: argmaxRows(logits) };
  });
  const [loss, pred] = await Promise.all([out.loss.read(), out.pred.read()]);
  out.loss.dispose();
  out.pred.dispose();
  return { loss: loss[0], pred };
}

/** The same from averaged probabilities (flip or ten-crop test-time augmentation): −log p(label), argmax p. */
async function scoreAveraged(model: Sequential, x: Float32Array, y: Float32Array, n: number, testTime: TestTime) {
  const k = model.classes.length;
  const p = await classProbabilities(model, x, n, { testTime });
  const pred = new Int32Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = p.subarray(i * k, (i + 1) * k);
    for (let c = 1; c < k; c++) if (row[c] > row[pred[i]]) pred[i] = c;
    // Smallest positive float32 keeps a (never seen) zero probability finite.
    loss -= Math.log(Math.max(row[y[i]], 1.4e-45));
  }
  return { loss: loss / n, pred };
}

/** Runs the model in inference mode over a whole dataset: mean cross-entropy and the confusion matrix. */
export async function evaluate(model: Sequential, ds: Dataset, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const { batchSize = 256, onProgress } = opts;
  const testTime = opts.testTime ?? (opts.flip ? 'flip' : 'none');
  const side = model.inputShape[model.inputShape.length - 1];
  const confusion = emptyConfusion(model.classes.length);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < ds.count; start += batchSize) {
    const n = Math.min(batchSize, ds.count - start);
    const idx = Array.from({ length: n }, (_, i) => start + i);
    // One view: the model's own input (the centre crop for a crop model), through the fused loss.
    // Several: the whole images, which classProbabilities cuts into the views.
    const { x, y } = assembleBatch(ds, idx, null, null, undefined, undefined, testTime === 'none' ? side : undefined);
    const { loss, pred } = testTime === 'none' ? await scoreLogits(model, x, y, n) : await scoreAveraged(model, x, y, n, testTime);
    lossSum += loss * n;
    for (let i = 0; i < n; i++) {
      confusion[y[i]][pred[i]]++;
      if (pred[i] === y[i]) correct++;
    }
    onProgress?.(start + n, ds.count);
  }
  return { loss: lossSum / Math.max(1, ds.count), confusion, count: ds.count, correct };
}
