import type { Dataset } from './dataset.ts';
import { PIXELS } from './dataset.ts';

const CHUNK = 1024;

/**
 * Collects images of unknown number. Fixed-size chunks rather than a doubling array: the final
 * copy then needs at most twice the data in memory, not three times, and nothing is counted in
 * advance.
 */
export class DatasetBuilder {
  #chunks: Uint8Array[] = [];
  #labels: Uint8Array[] = [];
  count = 0;

  /** Copies one 48×48 image (`pixels` may be a reused scratch buffer). */
  add(pixels: Uint8Array, label: number): void {
    const k = this.count % CHUNK;
    if (k === 0) {
      this.#chunks.push(new Uint8Array(CHUNK * PIXELS));
      this.#labels.push(new Uint8Array(CHUNK));
    }
    this.#chunks[this.#chunks.length - 1].set(pixels.subarray(0, PIXELS), k * PIXELS);
    this.#labels[this.#labels.length - 1][k] = label;
    this.count++;
  }

  /** The packed dataset; the builder is empty afterwards. */
  finish(): Dataset {
    const images = new Uint8Array(this.count * PIXELS);
    const labels = new Uint8Array(this.count);
    for (let c = 0; c < this.#chunks.length; c++) {
      const n = Math.min(CHUNK, this.count - c * CHUNK);
      images.set(this.#chunks[c].subarray(0, n * PIXELS), c * CHUNK * PIXELS);
      labels.set(this.#labels[c].subarray(0, n), c * CHUNK);
      this.#chunks[c] = new Uint8Array(0);
    }
    const ds = { images, labels, count: this.count };
    this.#chunks = [];
    this.#labels = [];
    this.count = 0;
    return ds;
  }
}
