import { FerError } from '../backend/errors.ts';
import { PIXELS, type Dataset } from '../data/dataset.ts';

/** Labelled feature vectors for the classical baselines: row i is x[i·dim … (i+1)·dim), its class labels[i]. */
export interface Samples {
  x: Float32Array;
  labels: Uint8Array;
  count: number;
  dim: number;
}

/** A data set's faces as rows of 2304 raw pixel values, 0–255 (integers, so L1 sums are exact in float32). */
export function pixelSamples(ds: Dataset): Samples {
  return { x: Float32Array.from(ds.images.subarray(0, ds.count * PIXELS)), labels: ds.labels.slice(0, ds.count), count: ds.count, dim: PIXELS };
}

/** Samples from plain arrays (tests, toy data), with their sizes checked. */
export function samples(x: Float32Array, labels: ArrayLike<number>, dim: number): Samples {
  const count = labels.length;
  if (x.length !== count * dim) throw new FerError(`samples: ${x.length} values for ${count} rows of ${dim}, want ${count * dim}`);
  return { x, labels: Uint8Array.from(labels), count, dim };
}
