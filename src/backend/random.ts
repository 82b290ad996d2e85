/**
 * Seeded pseudo-random numbers for everything that must replay exactly: weight init, data
 * shuffling and augmentation, dropout seeds. mulberry32: 32 bits of state, fast, and good
 * enough for these uses (not for cryptography).
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The generator's state, so a checkpoint can resume the same sequence. */
  get state(): number {
    return this.#state;
  }

  set state(s: number) {
    this.#state = s >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal, by Box–Muller. */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A 32-bit seed for a child generator or a kernel. */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(a: T[] | Uint32Array | Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

/**
 * Derives a seed from several integers (run seed, epoch, batch, purpose), so each batch's
 * augmentation and each step's dropout can be replayed on its own: a resumed run repeats the
 * exact numbers an uninterrupted one would have drawn.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
  }
  return h >>> 0;
}
