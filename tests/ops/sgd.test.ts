import { describe, expect, it } from 'vitest';
import { tensor, zeros } from '../../src/backend/create.ts';
import { grid1d } from '../../src/backend/webgpu/kernel.ts';
import { sgdGpu, sgdRef, sgdUpdate, type SgdOptions } from '../../src/ops/sgd.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

const CONFIGS: { name: string; opts: Omit<SgdOptions, 'lr'> }[] = [
  { name: 'plain', opts: {} },
  { name: 'plain + weight decay', opts: { weightDecay: 0.05 } },
  { name: 'momentum', opts: { momentum: 0.9 } },
  { name: 'momentum + weight decay', opts: { momentum: 0.8, weightDecay: 0.01 } },
  { name: 'nesterov', opts: { momentum: 0.9, nesterov: true } },
  { name: 'nesterov + weight decay', opts: { momentum: 0.7, nesterov: true, weightDecay: 0.02 } },
];

/** A schedule that changes lr every step, so a stale (cached) uniform would show. */
const lrAt = (step: number) => 0.1 / (1 + step);

/** PyTorch's torch.optim.SGD (dampening 0), written out in float64 from its documentation. */
function handWrittenSgd(p0: Float64Array, grads: Float64Array[], o: Omit<SgdOptions, 'lr'>): Float64Array {
  const p = p0.slice();
  const mu = o.momentum ?? 0;
  const wd = o.weightDecay ?? 0;
  let buf: Float64Array | null = null;
  grads.forEach((grad, t) => {
    const g = grad.map((gi, i) => gi + wd * p[i]);
    let d: Float64Array = g;
    if (mu !== 0) {
      buf = buf === null ? g.slice() : buf.map((b, i) => mu * b + g[i]);
      d = o.nesterov ? g.map((gi, i) => gi + mu * buf![i]) : buf;
    }
    for (let i = 0; i < p.length; i++) p[i] -= lrAt(t) * d[i];
  });
  return p;
}

async function runSteps(backend: 'cpu' | 'webgpu', p0: Float32Array, grads: Float32Array[], o: Omit<SgdOptions, 'lr'>): Promise<Float32Array> {
  const n = p0.length;
  const param = tensor(p0, [n], backend);
  const velocity = zeros([n], backend);
  grads.forEach((g, t) => sgdUpdate(param, tensor(g, [n], backend), velocity, { ...o, lr: lrAt(t) }));
  return param.read();
}

describe('sgd: against a hand-written float64 reference', () => {
  for (const { name, opts } of CONFIGS) {
    it(`${name}, 5 steps`, async () => {
      const n = 37;
      const p0 = randomArray(n);
      const grads = Array.from({ length: 5 }, () => randomArray(n));
      const want = handWrittenSgd(toF64(p0), grads.map(toF64), opts);

      // the reference kernel run in float64: the same arithmetic up to association
      const p = toF64(p0);
      const v = new Float64Array(n);
      grads.forEach((g, t) => sgdRef(p, toF64(g), v, { lr: lrAt(t), momentum: 0, nesterov: false, weightDecay: 0, ...opts }));
      expectClose(p, want, 1e-14, 'sgdRef in float64');

      // the op on float32 tensors: each step rounds param and velocity (|values| ≲ 2) to float32,
      // relative 6e-8 each; 5 steps of that stay below 1e-6 of the largest parameter
      expectClose(await runSteps('cpu', p0, grads, opts), want, 1e-6, 'sgdUpdate on the CPU');
    });
  }

  it('leaves an unused velocity alone without momentum, and steps by lr·g', async () => {
    const param = tensor([1, -2], [2], 'cpu');
    const velocity = tensor([5, 5], [2], 'cpu');
    sgdUpdate(param, tensor([0.5, 0.25], [2], 'cpu'), velocity, { lr: 0.5 });
    expect(Array.from(await param.read())).toEqual([0.75, -2.125]);
    expect(Array.from(await velocity.read())).toEqual([5, 5]);
  });
});

describe('sgd: WebGPU against the CPU twin after 3 steps', () => {
  for (const n of [1, 7, 1000, 70_001]) {
    for (const { name, opts } of CONFIGS) {
      it.skipIf(!gpu)(`${name}, n=${n}`, async () => {
        const p0 = randomArray(n);
        const grads = Array.from({ length: 3 }, () => randomArray(n));
        expectClose(await runSteps('webgpu', p0, grads, opts), await runSteps('cpu', p0, grads, opts), GPU_TOLERANCE, 'param');
      });
    }
  }

  it.skipIf(!gpu)('per-step parameters go through transient uniforms: 100 steps add no live GPU buffers', async () => {
    const n = 300;
    const [param, v] = [tensor(randomArray(n), [n], 'webgpu'), zeros([n], 'webgpu')];
    const stepOnce = (step: number) => {
      const g = tensor(randomArray(n), [n], 'webgpu');
      sgdUpdate(param, g, v, { lr: 0.001 * (1 + step), momentum: 0.9 });
      g.dispose();
    };
    stepOnce(1);
    await gpu!.sync();
    const before = gpu!.liveBuffers;
    for (let step = 2; step <= 101; step++) stepOnce(step);
    await gpu!.sync();
    expect(gpu!.liveBuffers).toBe(before);
  });

  it.skipIf(!gpu)('the velocity matches too, and the 2-D grid covers every element', async () => {
    // at most 3 workgroups per dimension: 2000 elements (8 groups) run on a 3×3 grid
    const n = 2000;
    expect(grid1d(n, 256, 3)).toEqual([3, 3, 1]);
    const [p0, v0, g] = [randomArray(n), randomArray(n), randomArray(n)];
    const o = { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 };
    const [pc, vc] = [tensor(p0, [n], 'cpu'), tensor(v0, [n], 'cpu')];
    const [pg, vg] = [tensor(p0, [n], 'webgpu'), tensor(v0, [n], 'webgpu')];
    sgdUpdate(pc, tensor(g, [n], 'cpu'), vc, o);
    sgdGpu(pg, tensor(g, [n], 'webgpu'), vg, o, 3);
    expectClose(await pg.read(), await pc.read(), GPU_TOLERANCE, 'param');
    expectClose(await vg.read(), await vc.read(), GPU_TOLERANCE, 'velocity');
  });
});

describe('sgd: bad input', () => {
  const t = (n = 4) => tensor(randomArray(n), [n], 'cpu');

  it('rejects bad hyperparameters, in one line each', () => {
    expect(() => sgdUpdate(t(), t(), t(), { lr: -1 })).toThrow(/^sgdUpdate: lr must be a finite number in \[0, ∞\), got -1$/);
    expect(() => sgdUpdate(t(), t(), t(), { lr: NaN })).toThrow(/^sgdUpdate: lr must be a finite number in \[0, ∞\), got NaN$/);
    expect(() => sgdUpdate(t(), t(), t(), { lr: 0.1, momentum: 1 })).toThrow(/^sgdUpdate: momentum must be a finite number in \[0, 1\), got 1$/);
    expect(() => sgdUpdate(t(), t(), t(), { lr: 0.1, weightDecay: -0.1 })).toThrow(/^sgdUpdate: weightDecay must be a finite number in \[0, ∞\), got -0.1$/);
    expect(() => sgdUpdate(t(), t(), null, { lr: 0.1, nesterov: true })).toThrow(/^sgdUpdate: nesterov needs momentum > 0, got momentum 0$/);
  });

  it('rejects a missing velocity, mismatched shapes and shared storage, in one line each', () => {
    expect(() => sgdUpdate(t(), t(), null, { lr: 0.1, momentum: 0.9 })).toThrow(/^sgdUpdate: velocity is required when momentum > 0 \(momentum 0.9\)$/);
    expect(() => sgdUpdate(t(), t(5), null, { lr: 0.1 })).toThrow(/^sgdUpdate: grad has shape \[5\], wanted \[4\] like param$/);
    expect(() => sgdUpdate(t(), t(), t(3), { lr: 0.1, momentum: 0.5 })).toThrow(/^sgdUpdate: velocity has shape \[3\], wanted \[4\] like param$/);
    const p = t();
    expect(() => sgdUpdate(p, p.reshape([4]), null, { lr: 0.1 })).toThrow(/^sgdUpdate: grad shares storage with param; they must be distinct tensors$/);
    const g = t();
    expect(() => sgdUpdate(p, g, g, { lr: 0.1, momentum: 0.5 })).toThrow(/^sgdUpdate: velocity shares storage with grad; they must be distinct tensors$/);
  });

  it('rejects disposed tensors, in one line', () => {
    const g = t();
    g.dispose();
    expect(() => sgdUpdate(t(), g, null, { lr: 0.1 })).toThrow(/^sgdUpdate: grad \[4\] was disposed$/);
  });

  it.skipIf(!gpu)('refuses tensors on different backends', () => {
    expect(() => sgdUpdate(tensor(randomArray(4), [4], 'webgpu'), t(), null, { lr: 0.1 })).toThrow(/^sgdUpdate: grad is on cpu but param is on webgpu$/);
  });
});
