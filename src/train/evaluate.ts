import { tensor } from '../backend/create.ts';
import { scope } from '../backend/scope.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Sequential } from '../nn/sequential.ts';
import { argmaxRows } from '../ops/reduce.ts';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.ts';
import { assembleBatch } from '../data/batches.ts';
import { emptyConfusion } from './metrics.ts';

export interface Evaluation {
  loss: number;
  confusion: number[][];
  count: number;
  correct: number;
}

/** Runs the model in inference mode over a whole dataset: mean cross-entropy and the confusion matrix. */
export async function evaluate(
  model: Sequential,
  ds: Dataset,
  batchSize = 256,
  onProgress?: (done: number, total: number) => void,
): Promise<Evaluation> {
  const k = model.classes.length;
  const confusion = emptyConfusion(k);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < ds.count; start += batchSize) {
    const n = Math.min(batchSize, ds.count - start);
    const idx = Array.from({ length: n }, (_, i) => start + i);
    const { x, y } = assembleBatch(ds, idx, null, null);
    const out = scope(() => {
      const logits = model.forward(tensor(x, [n, ...model.inputShape], model.backend), { training: false });
      const labels = tensor(y, [n], model.backend);
      return { loss: softmaxCrossEntropy(logits, labels).loss, pred: argmaxRows(logits) };
    });
    const [loss, pred] = await Promise.all([out.loss.read(), out.pred.read()]);
    out.loss.dispose();
    out.pred.dispose();
    lossSum += loss[0] * n;
    for (let i = 0; i < n; i++) {
      confusion[y[i]][pred[i]]++;
      if (pred[i] === y[i]) correct++;
    }
    onProgress?.(start + n, ds.count);
  }
  return { loss: lossSum / Math.max(1, ds.count), confusion, count: ds.count, correct };
}
