import { describe, expect, it } from 'vitest';
import { debug } from '../../src/backend/backends.ts';
import { tensor, zeros } from '../../src/backend/create.ts';
import { keep, scope } from '../../src/backend/scope.ts';
import { relu } from '../../src/ops/relu.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray } from '../support/random.ts';

describe('tensors', () => {
  it('refuse data of the wrong type or length, with one clear line', () => {
    expect(() => tensor(new Float64Array(4) as unknown as Float32Array, [4], 'cpu')).toThrow(/expected a Float32Array or number\[\], got Float64Array/);
    expect(() => tensor(new Int32Array(4) as unknown as Float32Array, [4], 'cpu')).toThrow(/got Int32Array/);
    expect(() => tensor(new Float32Array(5), [2, 2], 'cpu')).toThrow(/shape \[2,2\] needs 4 values, got 5/);
    expect(() => tensor(new Float32Array(4), [2, -2], 'cpu')).toThrow(/bad shape/);
  });

  it('refuse use after dispose', () => {
    const t = tensor(randomArray(4), [4], 'cpu');
    t.dispose();
    expect(() => relu(t)).toThrow(/relu: x \[4\] was disposed/);
    expect(() => t.read()).toThrow(/tensor \[4\] was disposed/);
  });

  it('reshape shares storage and frees it with the last view', async () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3], 'cpu');
    const v = t.reshape([3, -1]);
    expect(v.shape).toEqual([3, 2]);
    t.dispose();
    expect(Array.from(await v.read())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => t.reshape([6])).toThrow(/disposed/);
    expect(() => v.reshape([4, 2])).toThrow(/cannot view \[3,2\] \(6 values\) as \[4,2\]/);
  });

  it('scope disposes what it made except its result and kept tensors', () => {
    let inner = zeros([1], 'cpu');
    let kept = inner;
    const out = scope(() => {
      inner = zeros([2], 'cpu');
      kept = keep(zeros([3], 'cpu'));
      return { y: zeros([4], 'cpu') };
    });
    expect(inner.disposed).toBe(true);
    expect(kept.disposed).toBe(false);
    expect(out.y.disposed).toBe(false);
  });

  it('scope disposes everything when the function throws', () => {
    let made = zeros([1], 'cpu');
    expect(() =>
      scope(() => {
        made = zeros([2], 'cpu');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(made.disposed).toBe(true);
  });

  it('poisoned outputs start as NaN on the CPU', async () => {
    expect(debug.poison).toBe(true);
    const { empty } = await import('../../src/backend/create.ts');
    expect(Number.isNaN((await empty([3], 'cpu').read())[0])).toBe(true);
  });

  it.skipIf(!gpu)('poisoned outputs start as NaN on the GPU; pooled buffers are reused', async () => {
    const { empty } = await import('../../src/backend/create.ts');
    const e = empty([5], 'webgpu');
    expect(Array.from(await e.read()).every(Number.isNaN)).toBe(true);
    const before = gpu!.pool.created;
    e.dispose();
    const again = tensor([1, 2, 3, 4, 5], [5], 'webgpu');
    expect(gpu!.pool.created).toBe(before);
    expect(Array.from(await again.read())).toEqual([1, 2, 3, 4, 5]);
  });
});
