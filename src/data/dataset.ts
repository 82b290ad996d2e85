import { FerError } from '../backend/errors.ts';
import { mixSeed, Random } from '../backend/random.ts';
import { EMOTIONS, NUM_CLASSES } from './emotions.ts';

export const IMAGE_SIZE = 48;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** The split names of FER2013's `Usage` column. */
export const USAGES = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type Usage = (typeof USAGES)[number];

/** Labelled 48×48 gray faces, packed: image i is images[i·2304 … (i+1)·2304), its class labels[i]. */
export interface Dataset {
  /** count·48·48 bytes, row-major 8-bit gray. */
  images: Uint8Array;
  /** count class indices into EMOTIONS. */
  labels: Uint8Array;
  count: number;
}

/** Images per class, indexed like EMOTIONS. */
export function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(NUM_CLASSES).fill(0);
  for (let i = 0; i < ds.count; i++) {
    const l = ds.labels[i];
    if (l >= NUM_CLASSES) throw new FerError(`classCounts: label ${l} at image ${i} is not a class index, want 0–${NUM_CLASSES - 1}`);
    counts[l]++;
  }
  return counts;
}

/** A new dataset holding copies of the images at `indices`, in that order (repeats allowed). */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = indices.length;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) throw new FerError(`subset: indices[${j}] is ${i}, want an integer 0–${ds.count - 1}`);
    images.set(ds.images.subarray(i * PIXELS, (i + 1) * PIXELS), j * PIXELS);
    labels[j] = ds.labels[i];
  }
  return { images, labels, count: n };
}

/**
 * 'balanced' class weights, count / (K · count_k) as in scikit-learn, so every class carries the
 * same total weight in the loss (FER2013 has 16× more happy faces than disgusted ones). K counts
 * only the classes present; an absent class gets weight 0, since no sample can use it, and is
 * passed to `onMissing` (by default a warning on stderr) so a lopsided subset does not go unseen.
 */
export function classWeights(ds: Dataset, onMissing: (classes: string[]) => void = warnMissing): number[] {
  const counts = classCounts(ds);
  const present = counts.filter((c) => c > 0).length;
  const missing = EMOTIONS.filter((_, k) => counts[k] === 0);
  if (missing.length > 0) onMissing([...missing]);
  return counts.map((c) => (c > 0 ? ds.count / (present * c) : 0));
}

function warnMissing(classes: string[]): void {
  console.warn(`class weights: no images of ${classes.join(', ')}; weight 0 for ${classes.length === 1 ? 'it' : 'them'}`);
}

/**
 * `n` images drawn at random without replacement (seeded), kept in file order. This is what a
 * `--limit` for training should mean: FER2013 CSVs may list a split sorted by class (the copy
 * here does), so the first n rows could be a single emotion.
 */
export function randomSubset(ds: Dataset, n: number, seed: number): Dataset {
  if (!Number.isInteger(n) || n < 1) throw new FerError(`randomSubset: n is ${n}, want a positive integer`);
  if (n >= ds.count) return ds;
  const order = Array.from({ length: ds.count }, (_, i) => i);
  const rng = new Random(seed);
  // The first n places of a Fisher–Yates shuffle are a uniform sample.
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(ds.count - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return subset(ds, order.slice(0, n).sort((a, b) => a - b));
}

/**
 * Every split cut to `limit` images by `randomSubset` (none when limit is null or undefined),
 * each split drawn with its own seed derived from `seed`: the one meaning of --limit for
 * fer train, eval and baseline.
 */
export function sampleSplits(
  splits: Partial<Record<Usage, Dataset>>,
  limit: number | null | undefined,
  seed: number,
): Partial<Record<Usage, Dataset>> {
  if (!limit) return splits;
  const out: Partial<Record<Usage, Dataset>> = {};
  for (const u of USAGES) {
    const ds = splits[u];
    if (ds) out[u] = randomSubset(ds, limit, mixSeed(seed, USAGES.indexOf(u)));
  }
  return out;
}
