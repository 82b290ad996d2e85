import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { conv2dGeometry, type Padding } from '../../src/ops/conv2d.ts';
import { directApplies, directSource, padDirectSource, type ConvPass, type DirectChoice } from '../../src/ops/conv2d-webgpu.ts';
import { gpu } from '../support/gpu.ts';
import { randomArray, randomInt } from '../support/random.ts';

// The direct convolutions read a zero-padded copy of their source (shaders/pad2d.wgsl) with no
// edge test in the loop, so the copy must be right element for element and large enough for every
// read an invocation makes, including the pixels past a row's end that a run of TN computes and
// does not store.

const PASSES: ConvPass[] = ['forward', 'backward-input', 'backward-filter'];
const RUNS = [4, 8, 12, 16, 20, 24];

describe('the direct kernels\' padded source', () => {
  it('holds every tap every invocation reads, at the place the kernels read it', () => {
    for (let trial = 0; trial < 300; trial++) {
      const R = [1, 3, 5][randomInt(0, 2)];
      const stride = randomInt(1, 2);
      const padding: Padding = randomInt(0, 1) === 0 ? 'same' : 'valid';
      const H = randomInt(R, 13);
      const W = randomInt(R, 13);
      const g = conv2dGeometry([2, 3, H, W], [4, 3, R, R], { stride, padding });
      for (const pass of PASSES) {
        if (pass === 'backward-input' && stride !== 1) continue;
        for (const TN of RUNS) {
          const s = directSource(pass, g, TN);
          const [, , sh, sw] = s.dims;
          // The source's own pixels fit inside, after the border.
          expect(s.top + sh).toBeLessThanOrEqual(s.Hp);
          expect(s.left + sw).toBeLessThanOrEqual(s.Wp);
          // Every read: rows oh·st + r, columns ow·st + s, over the outputs each kernel walks.
          const [OH, OW, st] = pass === 'backward-input' ? [g.H, g.W, 1] : [g.OH, g.OW, g.stride];
          const lastOw = pass === 'backward-filter' ? OW - 1 : Math.ceil(OW / TN) * TN - 1;
          expect((OH - 1) * st + g.R - 1, `${pass} TN ${TN} rows`).toBeLessThan(s.Hp);
          expect(lastOw * st + g.S - 1, `${pass} TN ${TN} columns`).toBeLessThan(s.Wp);
          // Output (oh, ow) at tap (r, s) reads source pixel (oh·st + r − top, ow·st + s − left):
          // the convolution's own definition, so the border is the padding.
          const [padTop, padLeft] = pass === 'backward-input' ? [g.R - 1 - g.padTop, g.S - 1 - g.padLeft] : [g.padTop, g.padLeft];
          expect([s.top, s.left]).toEqual([padTop, padLeft]);
        }
      }
    }
  });

  it('the direct kernels step aside where the padded source would not fit one storage binding, and for a strided input gradient', () => {
    const g = conv2dGeometry([2, 8, 23, 23], [16, 8, 3, 3], { padding: 'same' });
    const b: DirectChoice = { family: 'direct', TM: 8, TN: 24 };
    const s = directSource('forward', g, 24);
    const bytes = 2 * 8 * s.Hp * s.Wp * 4;
    expect(s.Hp * s.Wp).toBeGreaterThan(23 * 23);
    expect(directApplies('forward', g, b, bytes)).toBe(true);
    expect(directApplies('forward', g, b, bytes - 4)).toBe(false);
    expect(directApplies('backward-input', conv2dGeometry([1, 2, 9, 9], [3, 2, 3, 3], { stride: 2, padding: 'valid' }), b)).toBe(false);
  });

  it.skipIf(!gpu)('WebGPU: pad2d writes the source inside a border of zeros (output poisoned first)', async () => {
    for (const [N, C, H, W, top, left, Hp, Wp] of [
      [1, 1, 1, 1, 1, 1, 3, 3],
      [2, 3, 5, 7, 1, 1, 7, 9],
      [1, 4, 23, 23, 1, 1, 25, 27],
      [3, 2, 6, 5, 0, 2, 9, 8],
      [1, 70, 33, 31, 2, 0, 36, 33], // 80 640 elements: a flat index past 2^16
    ]) {
      const x = randomArray(N * C * H * W);
      const want = new Float32Array(N * C * Hp * Wp);
      for (let i = 0; i < N * C; i++) {
        for (let h = 0; h < H; h++) {
          for (let w = 0; w < W; w++) want[(i * Hp + h + top) * Wp + w + left] = x[(i * H + h) * W + w];
        }
      }
      const src = tensor(x, [N, C, H, W], 'webgpu');
      const out = padDirectSource(gpu!, src, { dims: [N, C, H, W], top, left, Hp, Wp });
      expect(out).not.toBe(src);
      expect(out.shape).toEqual([N, C, Hp, Wp]);
      expect(await out.read()).toEqual(want);
    }
  });

  it.skipIf(!gpu)('WebGPU: a source that needs no border is read as it is', () => {
    const src = tensor(randomArray(2 * 3 * 4), [1, 2, 3, 4], 'webgpu');
    expect(padDirectSource(gpu!, src, { dims: [1, 2, 3, 4], top: 0, left: 0, Hp: 3, Wp: 4 })).toBe(src);
  });
});
