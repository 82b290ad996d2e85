import { tensor } from '../backend/create.ts';
import type { Random } from '../backend/random.ts';
import { scope } from '../backend/scope.ts';
import type { Tensor } from '../backend/tensor.ts';
import type { Sequential } from '../nn/sequential.ts';
import { argmaxRows } from '../ops/reduce.ts';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.ts';
import type { Optimizer } from './optimizer.ts';

/**
 * One optimisation step, the heart of every training loop here (the CLI's `train()` and the
 * library's and Train tab's `trainStep`): forward in training mode, (weighted, smoothed)
 * softmax cross-entropy, backward, the optimizer's update. Everything it makes on the backend is
 * freed; only the loss and the predicted classes are read back.
 */
export async function optimizeBatch(
  model: Sequential,
  optimizer: Optimizer,
  x: Float32Array,
  y: Float32Array,
  o: { rng: Random; weights: Tensor | null; labelSmoothing?: number },
): Promise<{ loss: number; correct: number }> {
  const n = y.length;
  const backend = model.backend;
  const out = scope(() => {
    const logits = model.forward(tensor(x, [n, ...model.inputShape], backend), { training: true, rng: o.rng });
    const { loss, dlogits } = softmaxCrossEntropy(logits, tensor(y, [n], backend), o.weights, o.labelSmoothing ?? 0);
    const pred = argmaxRows(logits);
    model.backward(dlogits);
    optimizer.apply(model.params());
    return { loss, pred };
  });
  const [lossV, predV] = await Promise.all([out.loss.read(), out.pred.read()]);
  out.loss.dispose();
  out.pred.dispose();
  let correct = 0;
  for (let i = 0; i < n; i++) if (predV[i] === y[i]) correct++;
  return { loss: lossV[0], correct };
}
