import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { relu, reluBackward, reluBackwardRef, reluRef } from '../../src/ops/relu.ts';
import { expectClose } from '../support/compare.ts';
import { gpu } from '../support/gpu.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';

describe('relu', () => {
  for (const n of [1, 7, 256, 1000, 70_001]) {
    it.skipIf(!gpu)(`WebGPU matches the CPU twin, forward and backward, n=${n}`, async () => {
      const x = randomArray(n);
      const dy = randomArray(n);
      const yc = relu(tensor(x, [n], 'cpu'));
      const yg = relu(tensor(x, [n], 'webgpu'));
      expectClose(await yg.read(), await yc.read(), 0, 'relu forward');
      const dxc = reluBackward(yc, tensor(dy, [n], 'cpu'));
      const dxg = reluBackward(yg, tensor(dy, [n], 'webgpu'));
      expectClose(await dxg.read(), await dxc.read(), 0, 'relu backward');
    });
  }

  it('backward matches finite differences', () => {
    const n = 50;
    const x = toF64(randomArray(n));
    const r = toF64(randomArray(n));
    const loss = (v: Float64Array) => {
      const y = new Float64Array(n);
      reluRef(v, y);
      return dot(y, r);
    };
    const y = new Float64Array(n);
    reluRef(x, y);
    const dx = new Float64Array(n);
    reluBackwardRef(y, r, dx);
    expectGradient('relu dx', x, loss, dx);
  });

  it('rejects a gradient of the wrong shape', () => {
    const y = relu(tensor(randomArray(6), [2, 3], 'cpu'));
    expect(() => reluBackward(y, tensor(randomArray(6), [3, 2], 'cpu'))).toThrow(/reluBackward: dy has shape \[3,2\], wanted \[2,3\]/);
  });
});
