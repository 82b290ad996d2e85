import { defineConfig } from 'vitest/config';

// .wgsl files import as their text, as in the Node hook (src/cli/wgsl-hook.mjs) and the esbuild bundle.
const wgslText = {
  name: 'wgsl-text',
  transform(code: string, id: string) {
    if (id.endsWith('.wgsl') || id.endsWith('.wat')) return { code: `export default ${JSON.stringify(code)};`, map: null };
    return null;
  },
};

// One seed for the whole run, printed once: every test file derives its random inputs from it
// (tests/support/random.ts), so FER_TEST_SEED=<seed> replays the run.
const seed = process.env.FER_TEST_SEED ?? String(Date.now() % 2 ** 31);
console.log(`[seed] FER_TEST_SEED=${seed}`);

export default defineConfig({
  plugins: [wgslText],
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/support/setup.ts'],
    env: { FER_TEST_SEED: seed },
    // Dawn is a native addon: one process per test file, not worker threads.
    pool: 'forks',
    // SwiftShader runs compute shaders on the CPU; the small shapes still take seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
