import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import type { Shape, Tensor } from '../../src/backend/tensor.ts';
import { FerError } from '../../src/backend/errors.ts';
import { batchNormBackward, batchNormInfer, batchNormTrain } from '../../src/ops/batchnorm.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, type Padding } from '../../src/ops/conv2d.ts';
import { matmul } from '../../src/ops/matmul.ts';
import { maxPool2d, maxPool2dBackward } from '../../src/ops/maxpool2d.ts';
import { relu, reluBackward } from '../../src/ops/relu.ts';
import { batchNormBackwardBounds, expectClose, expectWithin, GPU_TOLERANCE } from '../support/compare.ts';
import { dot } from '../support/gradcheck.ts';
import { randomArray } from '../support/random.ts';
import { wasm } from '../support/wasm.ts';

// Every WebAssembly kernel (wasm/*.wat) against the TypeScript specification (the cpu backend)
// on fresh random inputs: sizes that are not multiples of the 4×8 register block or of the
// 256-wide slices, batch 1 and larger, NaN-poisoned outputs (tests/support/setup.ts turns
// poisoning on for the wasm backend too), and several threads against one. Both sides round
// in float32 in different orders; GPU_TOLERANCE (1e-4 normwise) covers that with room.

const size = (s: Shape) => s.reduce((a, b) => a * b, 1);
const both = (data: Float32Array, shape: Shape): [Tensor, Tensor] => [tensor(data, shape, 'cpu'), tensor(data, shape, 'wasm')];
const read = async (t: Tensor) => t.read();

interface ConvCase { x: Shape; w: Shape; padding: Padding; stride: number }
const CONVS: ConvCase[] = [
  { x: [1, 1, 5, 5], w: [1, 1, 1, 1], padding: 'valid', stride: 1 },
  { x: [2, 3, 7, 9], w: [5, 3, 3, 3], padding: 'same', stride: 1 },
  { x: [3, 5, 11, 10], w: [13, 5, 3, 3], padding: 'valid', stride: 1 },
  { x: [2, 4, 9, 9], w: [6, 4, 3, 3], padding: 'same', stride: 2 },
  { x: [1, 7, 6, 5], w: [9, 7, 2, 3], padding: 'same', stride: 1 },
  // K = C·R·S = 333 > 256 (two slices of k), N·OH·OW = 722 > 256 (several column blocks)
  { x: [2, 37, 19, 19], w: [11, 37, 3, 3], padding: 'same', stride: 1 },
];

describe.skipIf(!wasm)('wasm convolution kernels against the specification', () => {
  for (const c of CONVS) {
    const name = `x${JSON.stringify(c.x)} w${JSON.stringify(c.w)} ${c.padding} stride ${c.stride}`;
    it(`forward with bias, relu, scale and shift: ${name}`, async () => {
      const K = c.w[0];
      const [x, xw] = both(randomArray(size(c.x)), c.x);
      const [w, ww] = both(randomArray(size(c.w)), c.w);
      const [b, bw] = both(randomArray(K), [K]);
      const [s, sw] = both(randomArray(K, 0.5, 2), [K]);
      const [t, tw] = both(randomArray(K), [K]);
      const o = { padding: c.padding, stride: c.stride };
      expectClose(await read(conv2d(xw, ww, bw, o)), await read(conv2d(x, w, b, o)), GPU_TOLERANCE, 'plain');
      const e = { ...o, relu: true, scale: s, shift: t };
      const ew = { ...o, relu: true, scale: sw, shift: tw };
      expectClose(await read(conv2d(xw, ww, bw, ew)), await read(conv2d(x, w, b, e)), GPU_TOLERANCE, 'epilogue');
    });

    it(`backward-input and backward-filter: ${name}`, async () => {
      const o = { padding: c.padding, stride: c.stride };
      const [x, xw] = both(randomArray(size(c.x)), c.x);
      const [w, ww] = both(randomArray(size(c.w)), c.w);
      const yShape = conv2d(x, w, null, o).shape;
      const [dy, dyw] = both(randomArray(size(yShape)), yShape);
      expectClose(await read(conv2dBackwardInput(dyw, ww, c.x, o)), await read(conv2dBackwardInput(dy, w, c.x, o)), GPU_TOLERANCE, 'dx');
      expectClose(await read(conv2dBackwardFilter(xw, dyw, c.w, o)), await read(conv2dBackwardFilter(x, dy, c.w, o)), GPU_TOLERANCE, 'dw');
    });

    it(`the passes are adjoint: <conv(x,w), dy> = <x, dx> = <w, dw> in the wasm results: ${name}`, async () => {
      // An identity of the three products that does not go through the specification at all.
      const o = { padding: c.padding, stride: c.stride };
      const xw = tensor(randomArray(size(c.x)), c.x, 'wasm');
      const ww = tensor(randomArray(size(c.w)), c.w, 'wasm');
      const y = conv2d(xw, ww, null, o);
      const dy = tensor(randomArray(y.size), y.shape, 'wasm');
      const lhs = dot(await read(y), await read(dy));
      const viaX = dot(await read(xw), await read(conv2dBackwardInput(dy, ww, c.x, o)));
      const viaW = dot(await read(ww), await read(conv2dBackwardFilter(xw, dy, c.w, o)));
      const scale = Math.sqrt(y.size) * 10;
      expect(Math.abs(viaX - lhs) / scale).toBeLessThan(1e-4);
      expect(Math.abs(viaW - lhs) / scale).toBeLessThan(1e-4);
    });
  }

  it('several threads give the answers one thread gives (forward and backward-input bit for bit)', async () => {
    const shape: Shape = [8, 24, 20, 20];
    const wShape: Shape = [24, 24, 3, 3];
    const x = tensor(randomArray(size(shape)), shape, 'wasm');
    const w = tensor(randomArray(size(wShape)), wShape, 'wasm');
    const dy = tensor(randomArray(size(shape)), shape, 'wasm');
    const o = { padding: 'same' as const };
    const run = async () => [await read(conv2d(x, w, null, o)), await read(conv2dBackwardInput(dy, w, shape, o)), await read(conv2dBackwardFilter(x, dy, wShape, o))];
    expect(wasm!.threads?.threads ?? 1, 'this machine should run the kernels on several threads').toBeGreaterThan(1);
    const many = await run();
    wasm!.maxThreads = 1;
    let one: Float32Array[];
    try {
      one = await run();
    } finally {
      wasm!.maxThreads = Number.POSITIVE_INFINITY;
    }
    expect(many[0]).toEqual(one[0]);
    expect(many[1]).toEqual(one[1]);
    // Backward-filter adds the threads' partial sums in another order: equal to rounding.
    expectClose(many[2], one[2], 1e-5, 'dw, threads vs one');
  });
});

describe.skipIf(!wasm)('wasm matmul against the specification', () => {
  for (const [M, N, K, transA, transB] of [
    [1, 1, 1, false, false], [5, 7, 3, false, false], [33, 17, 300, true, false], [64, 7, 192, false, true], [9, 600, 513, true, true], [130, 260, 70, false, false],
    // at most 4 rows read B unpacked: gemm_rows (B row-major; column tails of 0–3, A transposed)
    // and gemm_rows_t (B transposed, a dense layer at batch 1–4; K with tails after 8 and 4);
    // B transposed with A transposed still packs
    [1, 515, 1600, false, false], [4, 13, 37, true, false], [2, 6, 9, false, false],
    [1, 512, 1600, false, true], [3, 8, 5, false, true], [4, 7, 15, false, true], [2, 9, 3, false, true], [3, 10, 12, true, true],
  ] as const) {
    it(`${M}×${K} · ${K}×${N}${transA ? ', A transposed' : ''}${transB ? ', B transposed' : ''}, with and without the epilogue`, async () => {
      const [a, aw] = both(randomArray(M * K), transA ? [K, M] : [M, K]);
      const [b, bw] = both(randomArray(K * N), transB ? [N, K] : [K, N]);
      const [bias, biasw] = both(randomArray(N), [N]);
      const [s, sw] = both(randomArray(N, 0.5, 2), [N]);
      const [t, tw] = both(randomArray(N), [N]);
      const o = { transA, transB };
      expectClose(await read(matmul(aw, bw, o)), await read(matmul(a, b, o)), GPU_TOLERANCE, 'plain');
      const e = await read(matmul(a, b, { ...o, bias, relu: true, scale: s, shift: t }));
      expectClose(await read(matmul(aw, bw, { ...o, bias: biasw, relu: true, scale: sw, shift: tw })), e, GPU_TOLERANCE, 'epilogue');
    });
  }
});

describe.skipIf(!wasm)('wasm elementwise kernels against the specification', () => {
  for (const shape of [[1, 1, 1, 3], [2, 3, 5, 7], [4, 8, 10, 10], [3, 5]] as Shape[]) {
    it(`relu forward and backward ${JSON.stringify(shape)} (exactly: no arithmetic)`, async () => {
      const data = randomArray(size(shape));
      data[0] = -0;
      const [x, xw] = both(data, shape);
      const y = relu(x);
      const yw = relu(xw);
      expect(await read(yw)).toEqual(await read(y));
      const [dy, dyw] = both(randomArray(size(shape)), shape);
      expect(await read(reluBackward(yw, dyw))).toEqual(await read(reluBackward(y, dy)));
    });
  }

  // Output widths 1, 3, 5, 4 and 9: the forward kernel's four-window vector loop, its scalar
  // tail, and both together (with an odd last column that no window reads).
  for (const shape of [[1, 1, 2, 2], [2, 3, 5, 7], [3, 4, 8, 10], [1, 2, 9, 9], [2, 3, 6, 19]] as Shape[]) {
    it(`2×2 max-pooling forward and backward ${JSON.stringify(shape)}, ties, ±0 and NaN included (the first maximum wins)`, async () => {
      const data = randomArray(size(shape));
      // ties: a few windows with equal values, where the first in row-major order must win
      for (let i = 0; i + 1 < data.length; i += 7) data[i + 1] = data[i];
      // -0 before +0 in a window's top row (the first, -0, must win), and a NaN in one window
      const W = shape[3];
      if (W >= 4) {
        data[0] = -0; data[1] = 0; data[W] = -1; data[W + 1] = -1;
        data[2] = Number.NaN;
      }
      const [x, xw] = both(data, shape);
      const y = maxPool2d(x);
      const yw = maxPool2d(xw);
      expect(await read(yw)).toEqual(await read(y));
      const [dy, dyw] = both(randomArray(y.size), y.shape);
      expect(await read(maxPool2dBackward(xw, dyw))).toEqual(await read(maxPool2dBackward(x, dy)));
    });
  }

  it('max-pooling with another window falls back to the specification (3×3, stride 2, same)', async () => {
    const shape: Shape = [2, 3, 7, 8];
    const [x, xw] = both(randomArray(size(shape)), shape);
    const o = { size: 3, stride: 2, padding: 'same' as const };
    expect(await read(maxPool2d(xw, o))).toEqual(await read(maxPool2d(x, o)));
  });

  for (const shape of [[3, 5], [2, 3, 5, 7], [4, 6, 9, 11], [2, 2, 1, 1]] as Shape[]) {
    it(`batch norm training forward, inference and backward ${JSON.stringify(shape)}`, async () => {
      const C = shape[1];
      const xData = randomArray(size(shape), -2, 3);
      const [x, xw] = both(xData, shape);
      const [gamma, gw] = both(randomArray(C, 0.5, 2), [C]);
      const [beta, bw] = both(randomArray(C), [C]);
      const rm = randomArray(C);
      const rv = randomArray(C, 0.5, 2);
      const [runMean, rmw] = both(rm, [C]);
      const [runVar, rvw] = both(rv, [C]);
      const o = { eps: 1e-3, momentum: 0.9 };
      const c = batchNormTrain(x, gamma, beta, runMean, runVar, o);
      const w = batchNormTrain(xw, gw, bw, rmw, rvw, o);
      expectClose(await read(w.y), await read(c.y), GPU_TOLERANCE, 'y');
      expectClose(await read(w.mean), await read(c.mean), GPU_TOLERANCE, 'mean');
      expectClose(await read(w.invStd), await read(c.invStd), GPU_TOLERANCE, 'invStd');
      expectClose(await read(rmw), await read(runMean), GPU_TOLERANCE, 'running mean');
      expectClose(await read(rvw), await read(runVar), GPU_TOLERANCE, 'running variance');
      expectClose(await read(batchNormInfer(xw, gw, bw, rmw, rvw, o)), await read(batchNormInfer(x, gamma, beta, runMean, runVar, o)), GPU_TOLERANCE, 'inference');
      const [dy, dyw] = both(randomArray(size(shape)), shape);
      const gc = batchNormBackward(x, dy, gamma, c.mean, c.invStd);
      const gw2 = batchNormBackward(xw, dyw, gw, w.mean, w.invStd);
      // dx, dγ = Σ dy·x̂ and dβ = Σ dy cancel (two values per channel make dx ~0): each is held to
      // GPU_TOLERANCE of its terms' size, not of its own.
      const bounds = batchNormBackwardBounds(xData, await read(dy), await read(gamma), await read(c.mean), await read(c.invStd), shape, GPU_TOLERANCE);
      expectWithin(await read(gw2.dx), await read(gc.dx), bounds.dx, 'dx');
      expectWithin(await read(gw2.dgamma), await read(gc.dgamma), bounds.dgamma, 'dgamma');
      expectWithin(await read(gw2.dbeta), await read(gc.dbeta), bounds.dbeta, 'dbeta');
    });
  }
});

describe.skipIf(!wasm)('wasm memory-bound layers on the threads', () => {
  it('ReLU, 2×2 max-pooling and batch norm above the threading threshold: several threads give one thread\'s answers and the specification\'s', async () => {
    // 4·16·40·40 = 102,400 values per tensor: split by runs, planes and channels.
    const shape: Shape = [4, 16, 40, 40];
    const C = shape[1];
    const xData = randomArray(size(shape), -2, 3);
    const dyData = randomArray(size(shape));
    const gData = randomArray(C, 0.5, 2);
    const bData = randomArray(C);
    const pooledDy = randomArray(size(shape) / 4);
    const run = async (backend: 'cpu' | 'wasm') => {
      const x = tensor(xData, shape, backend);
      const dy = tensor(dyData, shape, backend);
      const [gamma, beta] = [tensor(gData, [C], backend), tensor(bData, [C], backend)];
      const [rm, rv] = [tensor(new Float32Array(C), [C], backend), tensor(new Float32Array(C).fill(1), [C], backend)];
      const y = relu(x);
      const bn = batchNormTrain(x, gamma, beta, rm, rv, { momentum: 0.9 });
      const g = batchNormBackward(x, dy, gamma, bn.mean, bn.invStd);
      const out = [y, reluBackward(y, dy), maxPool2d(x), maxPool2dBackward(x, tensor(pooledDy, [4, 16, 20, 20], backend)), bn.y, bn.mean, bn.invStd, rm, rv,
        batchNormInfer(x, gamma, beta, rm, rv), g.dx, g.dgamma, g.dbeta];
      return Promise.all(out.map(read));
    };
    const many = await run('wasm');
    wasm!.maxThreads = 1;
    let one: Float32Array[];
    try {
      one = await run('wasm');
    } finally {
      wasm!.maxThreads = Number.POSITIVE_INFINITY;
    }
    const spec = await run('cpu');
    const names = ['relu', 'relu backward', 'max-pool', 'max-pool backward', 'bn y', 'bn mean', 'bn invStd', 'running mean', 'running var', 'bn inference', 'bn dx', 'bn dgamma', 'bn dbeta'];
    names.forEach((name, i) => {
      // Each channel, plane or run is computed by the same code whichever thread takes it.
      expect(many[i], `${name}: threads vs one`).toEqual(one[i]);
      expectClose(many[i], spec[i], GPU_TOLERANCE, `${name}: against the specification`);
    });
  });
});

describe.skipIf(!wasm)('wasm memory', () => {
  it('a tensor larger than WebAssembly memory can hold ends in one line naming the memory needed', () => {
    let caught: unknown = null;
    try {
      wasm!.alloc(700 * 2 ** 20); // 2.9 GB of floats: over the 2 GiB limit
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FerError);
    expect((caught as Error).message).toMatch(/^wasm: out of WebAssembly memory: \d+ MiB more wanted .* use a smaller --batch$/);
    expect((caught as Error).message).not.toContain('\n');
  });

  it('freed blocks are reused: a repeated step does not grow the memory', () => {
    const step = () => {
      const t = tensor(randomArray(1000), [1000], 'wasm');
      const y = relu(t);
      t.dispose();
      y.dispose();
    };
    step();
    const pages = wasm!.heap.memory.buffer.byteLength;
    const inUse = wasm!.heap.inUse;
    for (let i = 0; i < 50; i++) step();
    expect(wasm!.heap.memory.buffer.byteLength).toBe(pages);
    expect(wasm!.heap.inUse).toBe(inUse);
  });
});
