import { describe, expect, it } from 'vitest';
import { randomArray, rng, TEST_SEED, testSeed } from './random.ts';

describe('test randomness: one run seed, a stream per test', () => {
  it('the run seed is the one tests/vitest.config.ts printed and handed over', () => {
    expect(process.env.FER_TEST_SEED).toBeDefined();
    expect(TEST_SEED).toBe(Number(process.env.FER_TEST_SEED));
  });

  it('each test starts the default stream at its own seed, whatever ran before it', () => {
    randomArray(5); // draws made earlier in the test do not matter once the stream restarts
    const expected = new Float32Array(3);
    const next = rng(testSeed());
    for (let i = 0; i < 3; i++) {
      let v = 0;
      while (v === 0) v = -1 + 2 * next();
      expected[i] = v;
    }
    const again = rng(testSeed());
    expect(again()).toBe(rng(testSeed())());
    expect(Array.from(randomArray(3, -1, 1, rng(testSeed())))).toEqual(Array.from(expected));
  });

  it('tests get different seeds', () => {
    const here = testSeed();
    expect(here).not.toBe(TEST_SEED);
    expect(here).toBe(testSeed());
  });
});
