import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import { augmentImage, DEFAULT_AUGMENT, NO_AUGMENT, type AugmentOptions } from '../../src/data/augment.ts';
import { PIXELS } from '../../src/data/dataset.ts';
import { randomArray, randomInt } from '../support/random.ts';

const N = 48;
const image = (): Float32Array => randomArray(PIXELS, 0, 1);
const seed = (): number => randomInt(0, 2 ** 31 - 1);

function run(src: Float32Array, s: number, opts: AugmentOptions): Float32Array {
  const dst = new Float32Array(PIXELS).fill(NaN);
  augmentImage(src, dst, new Random(s), opts);
  return dst;
}

const only = (o: Partial<AugmentOptions>): AugmentOptions => ({ ...NO_AUGMENT, ...o });

describe('augmentImage', () => {
  it('is the same for the same seed, different for another, and stays in [0, 1]', () => {
    const src = image();
    const s = seed();
    const a = run(src, s, DEFAULT_AUGMENT);
    expect(Array.from(run(src, s, DEFAULT_AUGMENT))).toEqual(Array.from(a));
    expect(Array.from(run(src, s + 1, DEFAULT_AUGMENT))).not.toEqual(Array.from(a));
    for (const v of a) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('with every strength 0 is an exact copy', () => {
    const src = image();
    expect(Array.from(run(src, seed(), NO_AUGMENT))).toEqual(Array.from(src));
  });

  it('mirrors exactly with flip 1, and mirroring twice gives the image back', () => {
    const src = image();
    const once = run(src, seed(), only({ flip: 1 }));
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) expect(once[y * N + x]).toBe(src[y * N + N - 1 - x]);
    expect(Array.from(run(once, seed(), only({ flip: 1 })))).toEqual(Array.from(src));
  });

  it('shifts by whole pixels within ±shift, filling from the edge', () => {
    const src = image();
    const k = 3;
    const seen = new Set<string>();
    for (let t = 0; t < 40; t++) {
      const out = run(src, seed(), only({ shift: k }));
      const clampAt = (v: number): number => Math.min(Math.max(v, 0), N - 1);
      const match = (dx: number, dy: number): boolean => {
        for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) if (out[y * N + x] !== src[clampAt(y - dy) * N + clampAt(x - dx)]) return false;
        return true;
      };
      const found: string[] = [];
      for (let dy = -k; dy <= k; dy++) for (let dx = -k; dx <= k; dx++) if (match(dx, dy)) found.push(`${dx},${dy}`);
      expect(found.length, 'exactly one shift in range explains the output').toBe(1);
      seen.add(found[0]);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it('rotates about the centre: a centred round blob barely changes, an off-centre one moves', () => {
    // A smooth radial bump is unchanged by rotation up to bilinear interpolation error, which
    // for a bump this wide (σ = 6 px) is far below 1%.
    const blob = (cx: number, cy: number): Float32Array => {
      const a = new Float32Array(PIXELS);
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) a[y * N + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 72);
      return a;
    };
    const centred = blob(23.5, 23.5);
    const out = run(centred, seed(), only({ rotate: 30 }));
    for (let i = 0; i < PIXELS; i++) expect(Math.abs(out[i] - centred[i])).toBeLessThan(0.01);
    const off = blob(38, 23.5);
    let moved = 0;
    for (let t = 0; t < 5; t++) {
      const r = run(off, seed(), only({ rotate: 30 }));
      moved = Math.max(moved, ...r.map((v, i) => Math.abs(v - off[i])));
    }
    expect(moved).toBeGreaterThan(0.1);
  });

  it('changes brightness by one offset and contrast by one factor about the mean, within the limits', () => {
    const src = randomArray(PIXELS, 0.3, 0.7);
    const mean = src.reduce((s, v) => s + v, 0) / PIXELS;
    for (let t = 0; t < 10; t++) {
      const b = run(src, seed(), only({ brightness: 0.2 }));
      const offset = b[0] - src[0];
      expect(Math.abs(offset)).toBeLessThanOrEqual(0.2 + 1e-6);
      for (let i = 0; i < PIXELS; i++) expect(b[i] - src[i]).toBeCloseTo(offset, 5);
      const c = run(src, seed(), only({ contrast: 0.4 }));
      // Read the factor off the pixel farthest from the mean, where it is best conditioned.
      let far = 0;
      for (let i = 0; i < PIXELS; i++) if (Math.abs(src[i] - mean) > Math.abs(src[far] - mean)) far = i;
      const factor = (c[far] - mean) / (src[far] - mean);
      expect(Math.abs(factor - 1)).toBeLessThanOrEqual(0.4 + 1e-4);
      for (let i = 0; i < PIXELS; i++) expect(c[i]).toBeCloseTo(mean + factor * (src[i] - mean), 5);
    }
  });

  it('draws the same six numbers whatever the options', () => {
    const s = seed();
    const states = [NO_AUGMENT, DEFAULT_AUGMENT, only({ rotate: 5 })].map((o) => {
      const r = new Random(s);
      augmentImage(image(), new Float32Array(PIXELS), r, o);
      return r.state;
    });
    const r = new Random(s);
    for (let i = 0; i < 6; i++) r.next();
    expect(states).toEqual([r.state, r.state, r.state]);
  });

  it('rejects wrong sizes, overlapping buffers and out-of-range options in one line', () => {
    const rng = new Random(1);
    const buf = new Float32Array(2 * PIXELS);
    expect(() => augmentImage(new Float32Array(10), new Float32Array(PIXELS), rng, NO_AUGMENT)).toThrow(
      new FerError('augmentImage: src has 10 and dst 2304 values, want 2304 (48×48) and a square crop with an even margin'),
    );
    expect(() => augmentImage(buf.subarray(0, PIXELS), buf.subarray(100, 100 + PIXELS), rng, NO_AUGMENT)).toThrow(new FerError('augmentImage: src and dst overlap, want separate buffers'));
    expect(() => augmentImage(image(), new Float32Array(PIXELS), rng, only({ shift: 1.5 }))).toThrow(new FerError('augment: shift is 1.5, want an integer from 0 to 23'));
    expect(() => augmentImage(image(), new Float32Array(PIXELS), rng, only({ flip: 2 }))).toThrow(new FerError('augment: flip is 2, want a number from 0 to 1'));
    expect(() => augmentImage(image(), new Float32Array(PIXELS), rng, only({ rotate: NaN }))).toThrow(/^augment: rotate is NaN/);
  });
});
