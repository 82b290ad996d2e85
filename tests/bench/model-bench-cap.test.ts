// Issue 10 item 1: the quick bench's rows must not depend on the machine's load. A warm-up
// call over the cap drops a peer's row with a reason; our own rows are timed regardless when
// alwaysTimeOurs is set (as --quick sets it). Slowness is simulated, so this holds at any load.
import { describe, expect, it } from 'vitest';
import { benchModels, type ModelImpl } from '../../bench/model-bench.ts';

function slowImpl(impl: 'ours' | 'tfjs', firstCallMs: number): ModelImpl {
  let calls = 0;
  return {
    impl,
    device: 'cpu',
    cannot: () => null,
    enter: async () => {},
    sync: async () => {},
    prepare: () => ({
      call: () => {
        // Only the warm-up call is slow: a busy machine delaying a peer's first dispatch.
        const until = performance.now() + (calls++ === 0 ? firstCallMs : 0.05);
        while (performance.now() < until);
      },
      dispose: () => {},
    }),
  };
}

describe('bench models: the warm-up cap', () => {
  const opts = { models: ['small'], modes: ['latency' as const], batch: 1, budget: 0.01, repeat: 2, maxSeconds: 0.02 };

  it('a slow peer is skipped with its reason; our row is timed with alwaysTimeOurs', async () => {
    const { rows, skipped } = await benchModels([slowImpl('ours', 60), slowImpl('tfjs', 60)], { ...opts, alwaysTimeOurs: true }, () => {});
    expect(rows.map((r) => r.impl)).toEqual(['ours']);
    expect(rows[0].ms).toBeGreaterThan(0);
    expect(skipped).toEqual([{ what: 'small latency, batch 1', device: 'cpu', impl: 'tfjs', reason: expect.stringMatching(/^not timed: the warm-up call took \d+\.\d s > --model-max-seconds 0.02$/) }]);
  });

  it('without it, our slow row is skipped the same way (the full bench keeps its cap)', async () => {
    const { rows, skipped } = await benchModels([slowImpl('ours', 60)], opts, () => {});
    expect(rows).toEqual([]);
    expect(skipped.map((s) => s.impl)).toEqual(['ours']);
  });
});
