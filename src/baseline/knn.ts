import { checkPositiveInt } from '../backend/checks.ts';
import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import type { BackendName, Tensor } from '../backend/tensor.ts';
import { pairwiseDistance, type Metric } from '../ops/pairwise-distance.ts';
import type { Samples } from './samples.ts';

/**
 * k-nearest-neighbour classification. Distances come from the backend's pairwiseDistance, a
 * block of test rows against a block of training rows at a time, so memory stays bounded
 * (test block × training block distances, plus the training set once on the backend) however
 * big the sets are. Each test row keeps its k nearest so far (partial selection: an insertion
 * into a sorted list of k, no full sort); equal distances keep the lower training index, so the
 * answer does not depend on the block sizes.
 */
export interface KnnOptions {
  k: number;
  metric: Metric;
  backend: BackendName;
  classes: number;
  /** Test rows per block (default 256). */
  testBlock?: number;
  /** Training rows per block (default 8192: 75 MB of pixels, under WebGPU's 128 MB binding limit). */
  trainBlock?: number;
  onProgress?: (done: number, total: number) => void;
}

/** The k smallest distances seen so far for each of `rows` queries, ascending, with their training indices. */
export class Nearest {
  readonly dist: Float64Array;
  readonly index: Int32Array;

  constructor(
    readonly rows: number,
    readonly k: number,
  ) {
    this.dist = new Float64Array(rows * k).fill(Infinity);
    this.index = new Int32Array(rows * k).fill(-1);
  }

  /** Offers training row j at distance d to query `row`. Call with j ascending: a tie keeps the earlier row. */
  offer(row: number, d: number, j: number): void {
    const base = row * this.k;
    let p = base + this.k - 1;
    if (!(d < this.dist[p])) return;
    while (p > base && d < this.dist[p - 1]) {
      this.dist[p] = this.dist[p - 1];
      this.index[p] = this.index[p - 1];
      p--;
    }
    this.dist[p] = d;
    this.index[p] = j;
  }
}

/**
 * Majority vote among neighbours given nearest first; a tie between classes goes to the one
 * whose nearest member is nearest, i.e. the first of the tied classes in the list.
 */
export function vote(neighbourLabels: ArrayLike<number>, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < neighbourLabels.length; i++) counts[neighbourLabels[i]]++;
  const most = Math.max(...counts);
  for (let i = 0; i < neighbourLabels.length; i++) if (counts[neighbourLabels[i]] === most) return neighbourLabels[i];
  throw new FerError('vote: no neighbours');
}

/** The predicted class of every row of `test`, by a k-neighbour vote among the rows of `train`. */
export async function knnPredict(train: Samples, test: Samples, o: KnnOptions): Promise<Uint8Array> {
  checkPositiveInt('knn', 'k', o.k);
  if (o.k > train.count) throw new FerError(`knn: k is ${o.k} but there are only ${train.count} training images`);
  if (train.dim !== test.dim) throw new FerError(`knn: training rows have ${train.dim} values but test rows ${test.dim}`);
  const testBlock = o.testBlock ?? 256;
  const trainBlock = o.trainBlock ?? 8192;
  const blocks: Tensor[] = [];
  const predictions = new Uint8Array(test.count);
  try {
    for (let r0 = 0; r0 < train.count; r0 += trainBlock) {
      const r1 = Math.min(train.count, r0 + trainBlock);
      blocks.push(tensor(train.x.subarray(r0 * train.dim, r1 * train.dim), [r1 - r0, train.dim], o.backend));
    }
    for (let t0 = 0; t0 < test.count; t0 += testBlock) {
      const t1 = Math.min(test.count, t0 + testBlock);
      const rows = t1 - t0;
      const nearest = new Nearest(rows, o.k);
      const q = tensor(test.x.subarray(t0 * test.dim, t1 * test.dim), [rows, test.dim], o.backend);
      try {
        for (let c = 0; c < blocks.length; c++) {
          const d = pairwiseDistance(q, blocks[c], o.metric);
          const values = await d.read();
          d.dispose();
          const n = blocks[c].shape[0];
          const offset = c * trainBlock;
          for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) nearest.offer(i, values[i * n + j], offset + j);
        }
      } finally {
        q.dispose();
      }
      const labels = new Uint8Array(o.k);
      for (let i = 0; i < rows; i++) {
        for (let r = 0; r < o.k; r++) labels[r] = train.labels[nearest.index[i * o.k + r]];
        predictions[t0 + i] = vote(labels, o.classes);
      }
      o.onProgress?.(t1, test.count);
    }
  } finally {
    for (const b of blocks) b.dispose();
  }
  return predictions;
}
