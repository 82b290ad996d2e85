import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { scope } from '../backend/scope.ts';
import { softmax } from '../ops/softmax-cross-entropy.ts';
import type { Sequential } from './sequential.ts';
import { testTimeViews, type TestTime } from './test-time.ts';

/**
 * The batch with every image mirrored left-right (NCHW: each row reversed). Faces are close to
 * symmetric and the model was trained on random flips, so a face and its mirror are two honest
 * views of the same expression.
 */
export function mirrorImages(x: Float32Array, shape: readonly number[]): Float32Array {
  const w = shape[shape.length - 1];
  if (x.length % w !== 0) throw new FerError(`mirrorImages: ${x.length} values are not whole rows of width ${w}`);
  const out = new Float32Array(x.length);
  for (let row = 0; row < x.length; row += w) {
    for (let i = 0; i < w; i++) out[row + i] = x[row + w - 1 - i];
  }
  return out;
}

export interface ProbabilityOptions {
  /** Test-time augmentation: average the softmax of each image and of its mirror. */
  flip?: boolean;
  /** Which views to average (test-time.ts); overrides `flip`. */
  testTime?: TestTime;
}

/**
 * Class probabilities [n, classes] of a batch of n images in inference mode. With `flip`, the
 * mean of the two views' probabilities (not of their logits: each view's softmax is a
 * distribution, and their mean is too). The images may be larger than the model's input (48×48
 * faces for a model that reads 40×40 crops): then the views are crops (test-time.ts).
 */
export async function classProbabilities(
  model: Sequential,
  x: Float32Array,
  n: number,
  opts: ProbabilityOptions = {},
): Promise<Float32Array> {
  const shape = [n, ...model.inputShape];
  const side = model.inputShape[model.inputShape.length - 1];
  const mode = opts.testTime ?? (opts.flip ? 'flip' : 'none');
  const inputSize = model.inputShape.reduce((a, b) => a * b, 1);
  // Images the model reads whole (any shape, square or not): the image, and its mirror for flip.
  // Larger square images (48×48 faces for a model of 40×40 crops): crops (test-time.ts).
  const whole = x.length === n * inputSize && mode !== 'ten-crop';
  const views = whole ? (mode === 'flip' ? [x, mirrorImages(x, shape)] : [x]) : testTimeViews(x, n, Math.round(Math.sqrt(x.length / Math.max(1, n))), side, mode);
  const mean = new Float32Array(n * model.classes.length);
  for (const view of views) {
    const probs = scope(() => softmax(model.forward(tensor(view, shape, model.backend), { training: false })));
    const p = await probs.read();
    probs.dispose();
    for (let i = 0; i < mean.length; i++) mean[i] += p[i] / views.length;
  }
  return mean;
}
