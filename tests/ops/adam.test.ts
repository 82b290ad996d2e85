import { describe, expect, it } from 'vitest';
import { tensor, zeros } from '../../src/backend/create.ts';
import { grid1d } from '../../src/backend/webgpu/kernel.ts';
import { adamCoefficients, adamGpu, adamRef, adamUpdate, type AdamOptions } from '../../src/ops/adam.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

type Config = Omit<AdamOptions, 'lr'>;

const CONFIGS: { name: string; opts: Config }[] = [
  { name: 'defaults', opts: {} },
  { name: 'other betas and eps', opts: { beta1: 0.5, beta2: 0.9, eps: 1e-3 } },
  { name: 'L2 weight decay', opts: { weightDecay: 0.1 } },
  { name: 'AdamW', opts: { weightDecay: 0.1, decoupled: true } },
];

/** A schedule that changes lr every step, so a stale (cached) uniform would show. */
const lrAt = (t: number) => 0.01 / t;

/**
 * The textbook algorithm in float64, with explicit bias-corrected moments m̂ and v̂. Keras adds ε to
 * √v rather than to √v̂, which is the textbook update with ε̂ = ε/√(1−β2^t).
 */
function handWrittenAdam(p0: Float64Array, grads: Float64Array[], o: Config): Float64Array {
  const { beta1: b1 = 0.9, beta2: b2 = 0.999, eps = 1e-7, weightDecay: wd = 0, decoupled = false } = o;
  const p = p0.slice();
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((grad, k) => {
    const t = k + 1;
    const lr = lrAt(t);
    const epsHat = eps / Math.sqrt(1 - b2 ** t);
    for (let i = 0; i < p.length; i++) {
      const g = decoupled ? grad[i] : grad[i] + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      if (decoupled) p[i] -= lr * wd * p[i];
      p[i] -= (lr * mHat) / (Math.sqrt(vHat) + epsHat);
    }
  });
  return p;
}

async function runSteps(backend: 'cpu' | 'webgpu', p0: Float32Array, grads: Float32Array[], o: Config): Promise<Float32Array[]> {
  const n = p0.length;
  const [param, m, v] = [tensor(p0, [n], backend), zeros([n], backend), zeros([n], backend)];
  grads.forEach((g, k) => adamUpdate(param, tensor(g, [n], backend), m, v, k + 1, { ...o, lr: lrAt(k + 1) }));
  return Promise.all([param.read(), m.read(), v.read()]);
}

describe('adam: against a hand-written float64 reference', () => {
  for (const { name, opts } of CONFIGS) {
    it(`${name}, 5 steps`, async () => {
      const n = 41;
      const p0 = randomArray(n);
      const grads = Array.from({ length: 5 }, () => randomArray(n));
      const want = handWrittenAdam(toF64(p0), grads.map(toF64), opts);

      // the reference kernel in float64: the same numbers up to the order of operations (the
      // folded step size), so they agree to a few float64 roundings
      const [p, m, v] = [toF64(p0), new Float64Array(n), new Float64Array(n)];
      grads.forEach((g, k) => adamRef(p, toF64(g), m, v, adamCoefficients(k + 1, { ...opts, lr: lrAt(k + 1) })));
      expectClose(p, want, 1e-12, 'adamRef in float64');

      // the op on float32 tensors: param, m and v are rounded to float32 (relative 6e-8) each step,
      // which moves m/(√v+ε) by ~1e-7 relative and the step (≤ lr) by less; over 5 steps the
      // parameters (|p| ≲ 1) stay within 1e-6 of the float64 result
      const [pc] = await runSteps('cpu', p0, grads, opts);
      expectClose(pc, want, 1e-6, 'adamUpdate on the CPU');
    });
  }

  it('the first step moves every parameter by about lr against its gradient (Adam is scale-free)', async () => {
    // step 1: m = 0.1·g, √v = √0.001·|g|, lr_t = lr·√0.001/0.1, so Δp = −lr·g/(|g| + ε/√0.001)
    const n = 50;
    const lr = 0.1;
    const p0 = randomArray(n);
    const g = randomArray(n).map((x) => (x < 0 ? -0.5 : 0.5) + x / 2); // |g| in [0.5, 1)
    const param = tensor(p0, [n], 'cpu');
    adamUpdate(param, tensor(g, [n], 'cpu'), zeros([n], 'cpu'), zeros([n], 'cpu'), 1, { lr });
    const p1 = await param.read();
    // |Δp| misses lr by lr·(ε/√0.001)/|g| ≤ 6.4e-6·lr, and rounding p (|p| < 1) to float32 adds at most
    // 3e-8 = 3e-7·lr: together below 1e-5·lr
    for (let i = 0; i < n; i++) expect(Math.abs(p1[i] - (p0[i] - lr * Math.sign(g[i])))).toBeLessThan(1e-5 * lr);
  });
});

describe('adam: WebGPU against the CPU twin after 3 steps', () => {
  for (const n of [1, 7, 1000, 70_001]) {
    for (const { name, opts } of CONFIGS) {
      it.skipIf(!gpu)(`${name}, n=${n}`, async () => {
        const p0 = randomArray(n);
        const grads = Array.from({ length: 3 }, () => randomArray(n));
        const got = await runSteps('webgpu', p0, grads, opts);
        const want = await runSteps('cpu', p0, grads, opts);
        ['param', 'm', 'v'].forEach((what, j) => expectClose(got[j], want[j], GPU_TOLERANCE, what));
      });
    }
  }

  it.skipIf(!gpu)('per-step parameters go through transient uniforms: 100 steps add no live GPU buffers', async () => {
    const n = 300;
    const [param, m, v] = [tensor(randomArray(n), [n], 'webgpu'), zeros([n], 'webgpu'), zeros([n], 'webgpu')];
    const stepOnce = (step: number) => {
      const g = tensor(randomArray(n), [n], 'webgpu');
      adamUpdate(param, g, m, v, step, { lr: 0.001 * (1 + step), weightDecay: 0.01, decoupled: true });
      g.dispose();
    };
    stepOnce(1);
    await gpu!.sync();
    const before = gpu!.liveBuffers;
    for (let step = 2; step <= 101; step++) stepOnce(step);
    await gpu!.sync();
    expect(gpu!.liveBuffers).toBe(before);
  });

  it.skipIf(!gpu)('the 2-D grid covers every element', async () => {
    // at most 3 workgroups per dimension: 2000 elements (8 groups) run on a 3×3 grid
    const n = 2000;
    expect(grid1d(n, 256, 3)).toEqual([3, 3, 1]);
    const [p0, m0, g] = [randomArray(n), randomArray(n), randomArray(n)];
    const v0 = randomArray(n, 0.1, 1);
    const c = adamCoefficients(4, { lr: 0.01, weightDecay: 0.05, decoupled: true });
    const make = (be: 'cpu' | 'webgpu') => [p0, m0, v0].map((a) => tensor(a, [n], be));
    const cpu = make('cpu');
    const gp = make('webgpu');
    adamUpdate(cpu[0], tensor(g, [n], 'cpu'), cpu[1], cpu[2], 4, { lr: 0.01, weightDecay: 0.05, decoupled: true });
    adamGpu(gp[0], tensor(g, [n], 'webgpu'), gp[1], gp[2], c, 3);
    for (let j = 0; j < 3; j++) expectClose(await gp[j].read(), await cpu[j].read(), GPU_TOLERANCE, ['param', 'm', 'v'][j]);
  });
});

describe('adam: bad input', () => {
  const t = (n = 4) => tensor(randomArray(n), [n], 'cpu');

  it('rejects bad hyperparameters and steps, in one line each', () => {
    expect(() => adamUpdate(t(), t(), t(), t(), 0, { lr: 0.1 })).toThrow(/^adamUpdate: step must be a positive integer, got 0$/);
    expect(() => adamUpdate(t(), t(), t(), t(), 1.5, { lr: 0.1 })).toThrow(/^adamUpdate: step must be a positive integer, got 1.5$/);
    expect(() => adamUpdate(t(), t(), t(), t(), 1, { lr: -0.1 })).toThrow(/^adamUpdate: lr must be a finite number in \[0, ∞\), got -0.1$/);
    expect(() => adamUpdate(t(), t(), t(), t(), 1, { lr: 0.1, beta1: 1 })).toThrow(/^adamUpdate: beta1 must be a finite number in \[0, 1\), got 1$/);
    expect(() => adamUpdate(t(), t(), t(), t(), 1, { lr: 0.1, beta2: -0.5 })).toThrow(/^adamUpdate: beta2 must be a finite number in \[0, 1\), got -0.5$/);
    expect(() => adamUpdate(t(), t(), t(), t(), 1, { lr: 0.1, eps: 0 })).toThrow(/^adamUpdate: eps must be a finite number > 0, got 0$/);
    expect(() => adamUpdate(t(), t(), t(), t(), 1, { lr: 0.1, weightDecay: Infinity })).toThrow(/^adamUpdate: weightDecay must be a finite number in \[0, ∞\), got Infinity$/);
  });

  it('rejects mismatched shapes and shared storage, in one line each', () => {
    expect(() => adamUpdate(t(), t(), t(5), t(), 1, { lr: 0.1 })).toThrow(/^adamUpdate: m has shape \[5\], wanted \[4\] like param$/);
    expect(() => adamUpdate(t(), t(3), t(), t(), 1, { lr: 0.1 })).toThrow(/^adamUpdate: grad has shape \[3\], wanted \[4\] like param$/);
    const s = t();
    expect(() => adamUpdate(t(), t(), s, s, 1, { lr: 0.1 })).toThrow(/^adamUpdate: v shares storage with m; they must be distinct tensors$/);
  });

  it('rejects disposed tensors, in one line', () => {
    const v = t();
    v.dispose();
    expect(() => adamUpdate(t(), t(), t(), v, 1, { lr: 0.1 })).toThrow(/^adamUpdate: v \[4\] was disposed$/);
  });

  it.skipIf(!gpu)('refuses tensors on different backends', () => {
    const w = () => tensor(randomArray(4), [4], 'webgpu');
    expect(() => adamUpdate(w(), w(), w(), t(), 1, { lr: 0.1 })).toThrow(/^adamUpdate: v is on cpu but param is on webgpu$/);
  });
});
