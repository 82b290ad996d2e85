import { afterAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { conv2d, conv2dGeometry } from '../../src/ops/conv2d.ts';
import { autotuneConv } from '../../src/ops/conv2d-tune.ts';
import { choiceLabel, convKernel, forgetTunedConvKernels, tunedConvKernel, tunedConvKernels } from '../../src/ops/conv2d-webgpu.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray } from '../support/random.ts';

// Autotuning (src/ops/conv2d-tune.ts) on this machine's adapter, forced where it is a software
// one (which otherwise keeps its measured table): tiny shapes, one timed round.

describe('autotuneConv', () => {
  afterAll(() => forgetTunedConvKernels());

  it.skipIf(!gpu)('times every candidate, remembers the fastest per adapter and shape, and the op then runs it correctly', async () => {
    forgetTunedConvKernels();
    const shape = { x: [1, 3, 9, 7], w: [5, 3, 3, 3], opts: { padding: 'same' as const } };
    const strided = { x: [2, 2, 9, 8], w: [3, 2, 3, 3], opts: { stride: 2, padding: 'valid' as const } };
    const g = conv2dGeometry(shape.x, shape.w, shape.opts);
    const untuned = choiceLabel(convKernel(gpu!, 'forward', g));
    expect(gpu!.info.software ? await autotuneConv(gpu!, [shape]) : []).toEqual([]);
    const results = await autotuneConv(gpu!, [shape, strided], { rounds: 1, force: true });
    expect(results.map((r) => r.pass)).toEqual(['forward', 'backward-input', 'backward-filter', 'forward', 'backward-input', 'backward-filter']);
    for (const r of results) {
      const labels = Object.keys(r.ms);
      // Direct 4×4, 8×4, 8×8, 8×12, 8×16, 8×24 and 16×24 (not for a strided input gradient), the GEMM core's 8×2, 4×4 and shared tiles.
      expect(labels.length).toBe(r.shape.includes('stride 2') && r.pass === 'backward-input' ? 3 : 10);
      const fastest = labels.reduce((a, b) => (r.ms[a] <= r.ms[b] ? a : b));
      expect(r.chosen).toBe(fastest);
      for (const ms of Object.values(r.ms)) expect(ms).toBeGreaterThan(0);
    }
    expect(choiceLabel(convKernel(gpu!, 'forward', g))).toBe(results[0].chosen);
    expect(tunedConvKernel(gpu!, 'forward', g)).toBeDefined();
    expect(Object.keys(tunedConvKernels()).length).toBe(6);
    // A shape already tuned costs nothing the second time; another batch size is another shape.
    expect(await autotuneConv(gpu!, [shape], { rounds: 1, force: true })).toEqual([]);
    expect(tunedConvKernel(gpu!, 'forward', conv2dGeometry([2, 3, 9, 7], shape.w, shape.opts))).toBeUndefined();
    // The op runs the remembered kernel and still agrees with the CPU.
    const x = randomArray(1 * 3 * 9 * 7);
    const w = randomArray(5 * 3 * 3 * 3);
    const run = (be: 'cpu' | 'webgpu') => conv2d(tensor(x, shape.x, be), tensor(w, shape.w, be), null, shape.opts).read();
    expectClose(await run('webgpu'), await run('cpu'), GPU_TOLERANCE, 'forward after tuning');
    forgetTunedConvKernels();
    expect(choiceLabel(convKernel(gpu!, 'forward', g))).toBe(untuned);
  });
});
