import { expect } from 'vitest';

/**
 * Fresh random inputs for every run from one run seed: tests/vitest.config.ts takes it from
 * FER_TEST_SEED or the clock, prints it and hands it to every test file, so the whole run can be
 * replayed with FER_TEST_SEED=<seed>.
 */
export const TEST_SEED = Number(process.env.FER_TEST_SEED ?? Date.now() % 2 ** 31);
if (process.env.FER_TEST_SEED === undefined) console.log(`[seed] FER_TEST_SEED=${TEST_SEED}`);

/** FNV-1a of the text mixed into the seed: a stream per test that does not shift when other tests are added, run alone or reordered. */
function derive(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The seed of the current test: the run seed with the test file and full test name, or the file
 * alone while the file is being collected (inputs drawn at describe time).
 */
export function testSeed(): number {
  const { testPath = '', currentTestName = '' } = expect.getState();
  // The path from tests/ on, so a run replays in another checkout too.
  return derive(TEST_SEED, `${testPath.slice(testPath.lastIndexOf('/tests/'))}\u0000${currentTestName}`);
}

/** mulberry32: a small, fast, seedable generator. */
export function rng(seed = testSeed()): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let shared = rng();

/** Restarts the default stream of randomArray/randomInt at the current test's seed (tests/support/setup.ts, before each test). */
export function restartStream(): void {
  shared = rng();
}

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
