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

describe('augmentImage: crops, zoom and erasing', () => {
  const SIDE = 40;
  const SHIFT = (N - SIDE) / 2;
  /** A 48×48 image whose pixel (r, c) holds (r·48 + c)/2304: each value says where it came from. */
  const indexed = Float32Array.from({ length: PIXELS }, (_, i) => i / PIXELS);
  const crop = (src: Float32Array, rng: Random, opts: AugmentOptions, side = SIDE): Float32Array => {
    const dst = new Float32Array(side * side).fill(NaN);
    augmentImage(src, dst, rng, opts);
    return dst;
  };

  it('random crop: every offset within ±shift is reached, and each crop is the source pixels exactly (no rotation, no resampling)', () => {
    const rng = new Random(seed());
    const seen = new Set<string>();
    for (let t = 0; t < 2000; t++) {
      const out = crop(indexed, rng, only({ shift: SHIFT }));
      // the crop's top-left pixel names its source position; the offset is the centre crop's (4, 4) minus that
      const first = Math.round(out[0] * PIXELS);
      const top = Math.floor(first / N);
      const left = first % N;
      const dx = SHIFT - left;
      const dy = SHIFT - top;
      expect(Math.abs(dx) <= SHIFT && Math.abs(dy) <= SHIFT, `offset (${dx}, ${dy})`).toBe(true);
      for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) if (out[y * SIDE + x] !== indexed[(top + y) * N + left + x]) expect.fail(`crop ${t}: pixel (${y}, ${x}) is not source (${top + y}, ${left + x})`);
      seen.add(`${dx},${dy}`);
    }
    expect(seen.size, 'all 81 offsets').toBe((2 * SHIFT + 1) ** 2);
  });

  it('zoom: a factor in [1 − s, 1 + s] about the centre, both ends reached; scale 0 is no zoom', () => {
    // a left-to-right ramp 0…1: bilinear sampling reproduces it, so the output's slope is 1/(47·zoom)
    const ramp = Float32Array.from({ length: PIXELS }, (_, i) => (i % N) / (N - 1));
    const zoomOf = (out: Float32Array) => {
      const row = 24 * N;
      return 1 / ((N - 1) * ((out[row + 30] - out[row + 17]) / 13));
    };
    const rng = new Random(seed());
    const zooms: number[] = [];
    for (let t = 0; t < 300; t++) {
      const out = crop(ramp, rng, only({ scale: 0.15 }), N);
      const z = zoomOf(out);
      expect(z).toBeGreaterThanOrEqual(0.85 - 1e-4);
      expect(z).toBeLessThanOrEqual(1.15 + 1e-4);
      // about the centre: the two middle columns still average to the ramp's middle
      expect((out[24 * N + 23] + out[24 * N + 24]) / 2).toBeCloseTo(0.5, 5);
      zooms.push(z);
    }
    expect(Math.min(...zooms)).toBeLessThan(0.87);
    expect(Math.max(...zooms)).toBeGreaterThan(1.13);
    expect(zoomOf(crop(ramp, rng, only({ scale: 0 }), N))).toBeCloseTo(1, 4);
  });

  it('erasing: with probability p, one rectangle of 2–33% of the crop, aspect 0.3–3.3, set to exactly 0 after the lighting change; the rest untouched', () => {
    const grey = new Float32Array(PIXELS).fill(0.5);
    const rng = new Random(seed());
    const trials = 2000;
    let erased = 0;
    const areas: number[] = [];
    const aspects: number[] = [];
    const edges = new Set<string>();
    for (let t = 0; t < trials; t++) {
      const out = crop(grey, rng, only({ erase: 0.5, brightness: 0.2 }));
      const zeros: number[] = [];
      out.forEach((v, i) => v === 0 && zeros.push(i));
      // every pixel not erased carries the same brightness offset, none of them 0
      const lit = out.find((v) => v !== 0)!;
      expect(out.every((v) => v === 0 || v === lit)).toBe(true);
      if (zeros.length === 0) continue;
      erased++;
      const rows = zeros.map((i) => Math.floor(i / SIDE));
      const cols = zeros.map((i) => i % SIDE);
      const [top, bottom, left, right] = [Math.min(...rows), Math.max(...rows), Math.min(...cols), Math.max(...cols)];
      const h = bottom - top + 1;
      const w = right - left + 1;
      expect(zeros.length, 'one solid rectangle').toBe(h * w);
      // h and w are rounded from √(area·ratio) and √(area/ratio): the ranges up to that rounding
      const a = SIDE * SIDE;
      expect((h + 0.5) * (w + 0.5)).toBeGreaterThanOrEqual(0.02 * a);
      expect((h - 0.5) * (w - 0.5)).toBeLessThanOrEqual(0.33 * a); // (cutting to the crop only shrinks it)
      expect((h + 0.5) / (w - 0.5)).toBeGreaterThanOrEqual(0.3);
      expect((h - 0.5) / (w + 0.5)).toBeLessThanOrEqual(3.3);
      areas.push((h * w) / a);
      aspects.push(h / w);
      if (top === 0) edges.add('top');
      if (bottom === SIDE - 1) edges.add('bottom');
      if (left === 0) edges.add('left');
      if (right === SIDE - 1) edges.add('right');
    }
    // p = 0.5: 2000 trials put the fraction within ±0.05 but for a 4.5σ fluke
    expect(Math.abs(erased / trials - 0.5)).toBeLessThan(0.05);
    expect(Math.min(...areas)).toBeLessThan(0.03);
    expect(Math.max(...areas)).toBeGreaterThan(0.3);
    expect(Math.min(...aspects)).toBeLessThan(0.4);
    expect(Math.max(...aspects)).toBeGreaterThan(2.5);
    expect([...edges].sort(), 'rectangles reach every edge').toEqual(['bottom', 'left', 'right', 'top']);
    // erase 1 erases every time, erase 0 never
    for (let t = 0; t < 20; t++) expect(crop(grey, rng, only({ erase: 1 })).some((v) => v === 0)).toBe(true);
    for (let t = 0; t < 20; t++) expect(crop(grey, rng, only({ erase: 0 })).some((v) => v === 0)).toBe(false);
  });

  it('zoom and erasing off draw no extra numbers (the stream and the image are those without the fields); on, they draw six more', () => {
    const s = seed();
    const src = image();
    const stateAfter = (o: AugmentOptions) => {
      const r = new Random(s);
      const out = crop(src, r, o);
      return { state: r.state, out: Array.from(out) };
    };
    const without = stateAfter(DEFAULT_AUGMENT);
    expect(stateAfter({ ...DEFAULT_AUGMENT, scale: 0, erase: 0 })).toEqual(without);
    const six = new Random(s);
    for (let i = 0; i < 6; i++) six.next();
    expect(without.state).toEqual(six.state);
    for (let i = 0; i < 6; i++) six.next();
    for (const o of [{ scale: 0.1 }, { erase: 0.5 }, { scale: 0.1, erase: 1 }]) expect(stateAfter({ ...DEFAULT_AUGMENT, ...o }).state, JSON.stringify(o)).toEqual(six.state);
  });
});
