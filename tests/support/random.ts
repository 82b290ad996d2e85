/**
 * Fresh random inputs for every run: the seed comes from FER_TEST_SEED or the clock, and is
 * printed, so a failure can be replayed with FER_TEST_SEED=<seed>.
 */
export const TEST_SEED = Number(process.env.FER_TEST_SEED ?? Date.now() % 2 ** 31);
console.log(`[seed] FER_TEST_SEED=${TEST_SEED}`);

/** mulberry32: a small, fast, seedable generator. */
export function rng(seed = TEST_SEED): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const shared = rng();

/** Uniform in [lo, hi), never exactly zero. */
export function randomArray(n: number, lo = -1, hi = 1, next = shared): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    while (v === 0) v = lo + (hi - lo) * next();
    a[i] = v;
  }
  return a;
}

export function randomInt(lo: number, hi: number, next = shared): number {
  return lo + Math.floor(next() * (hi - lo + 1));
}
