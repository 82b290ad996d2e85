import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import { Dense } from '../../src/nn/dense.ts';
import { classProbabilities } from '../../src/nn/flip-average.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { FER_CLASSES } from '../../src/nn/models.ts';
import { GlobalAvgPool2D } from '../../src/nn/pooling.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { chooseTestTime, testTimeViews } from '../../src/nn/test-time.ts';
import { randomArray } from '../support/random.ts';

const FROM = 48;
const SIDE = 40;
const N = 3;

/** Images whose every pixel names itself: image i, row r, column c holds i·10⁴ + r·100 + c (exact in float32). */
function labelled(n: number, from: number): Float32Array {
  const x = new Float32Array(n * from * from);
  for (let i = 0; i < n; i++) for (let r = 0; r < from; r++) for (let c = 0; c < from; c++) x[(i * from + r) * from + c] = i * 1e4 + r * 100 + c;
  return x;
}

/** Pixel (i, r, c) of view v, which must be [n, 1, side, side]. */
const at = (v: Float32Array, side: number, i: number, r: number, c: number) => v[(i * side + r) * side + c];

/** True when view v is the side×side crop at (top, left), mirrored or not, of every labelled image. */
function isCrop(v: Float32Array, top: number, left: number, mirrored: boolean, side = SIDE): boolean {
  if (v.length !== N * side * side) return false;
  for (let i = 0; i < N; i++) {
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const sc = mirrored ? side - 1 - c : c;
        if (at(v, side, i, r, c) !== i * 1e4 + (top + r) * 100 + left + sc) return false;
      }
    }
  }
  return true;
}

describe('testTimeViews', () => {
  const x = labelled(N, FROM);

  it('ten-crop: the four corners and the centre, then the mirror of each, in that order, at exact pixel positions', () => {
    const views = testTimeViews(x, N, FROM, SIDE, 'ten-crop');
    expect(views).toHaveLength(10);
    const d = FROM - SIDE; // 8
    const places = [[0, 0], [0, d], [d, 0], [d, d], [d / 2, d / 2]]; // top-left, top-right, bottom-left, bottom-right, centre
    places.forEach(([t, l], k) => {
      expect(isCrop(views[k], t, l, false), `view ${k}: crop at (${t}, ${l})`).toBe(true);
      expect(isCrop(views[k + 5], t, l, true), `view ${k + 5}: mirrored crop at (${t}, ${l})`).toBe(true);
    });
    // the corners really are the corners: pixel (0, 0) of the bottom-right crop is source (8, 8)
    expect(at(views[3], SIDE, 1, 0, 0)).toBe(1e4 + 8 * 100 + 8);
    expect(at(views[3], SIDE, 1, SIDE - 1, SIDE - 1)).toBe(1e4 + 47 * 100 + 47);
  });

  it('none and flip: the centre crop, and its mirror; a model of whole faces sees the images themselves', () => {
    const none = testTimeViews(x, N, FROM, SIDE, 'none');
    expect(none).toHaveLength(1);
    expect(isCrop(none[0], 4, 4, false)).toBe(true);
    const flip = testTimeViews(x, N, FROM, SIDE, 'flip');
    expect(flip).toHaveLength(2);
    expect(isCrop(flip[0], 4, 4, false)).toBe(true);
    expect(isCrop(flip[1], 4, 4, true)).toBe(true);
    const whole = testTimeViews(x, N, FROM, FROM, 'flip');
    expect(Array.from(whole[0])).toEqual(Array.from(x));
    expect(isCrop(whole[1], 0, 0, true, FROM)).toBe(true);
  });

  it('refuses in one line: ten-crop for a model that reads whole 48×48 faces, a crop with an odd margin, the wrong number of values', () => {
    const oneLine = (f: () => unknown, message: string) => {
      expect(f).toThrow(new FerError(message));
      expect(message).not.toContain('\n');
    };
    oneLine(
      () => testTimeViews(x, N, FROM, FROM, 'ten-crop'),
      'ten-crop averaging needs a model that reads crops smaller than its 48×48 images (this one reads them whole): use flip or none',
    );
    oneLine(() => testTimeViews(x, N, FROM, 41, 'none'), 'testTimeViews: a model reading 41×41 cannot take centre crops of 48×48 images');
    oneLine(() => testTimeViews(x.subarray(1), N, FROM, SIDE, 'none'), `testTimeViews: ${x.length - 1} values are not 3 images of 48×48`);
  });

  it('a model of whole faces asked for ten-crop refuses before any work; one of 40×40 crops averages the ten views', async () => {
    const faces = randomArray(2 * FROM * FROM, 0, 1);
    const net = (side: number) =>
      new Sequential('t', [new Conv2D({ filters: 2, kernelSize: 3, stride: 4 }), new GlobalAvgPool2D(), new Flatten(), new Dense({ units: 7 })], [1, side, side], FER_CLASSES).build(new Random(1), 'cpu');
    await expect(classProbabilities(net(FROM), faces, 2, { testTime: 'ten-crop' })).rejects.toThrow(/^ten-crop averaging needs a model that reads crops smaller than its 48×48 images/);
    const model = net(SIDE);
    const ten = await classProbabilities(model, faces, 2, { testTime: 'ten-crop' });
    // the mean of the ten views' probabilities, each taken on its own
    const views = testTimeViews(faces, 2, FROM, SIDE, 'ten-crop');
    const mean = new Float64Array(14);
    for (const v of views) {
      const p = await classProbabilities(model, v, 2, { testTime: 'none' });
      p.forEach((q, k) => (mean[k] += q / 10));
    }
    ten.forEach((q, k) => expect(q).toBeCloseTo(mean[k], 6));
  });
});

describe('chooseTestTime', () => {
  it('the flag wins, then --flip, then the model file\'s test_time, then none', () => {
    expect(chooseTestTime({ test_time: 'ten-crop' }, 'none')).toBe('none');
    expect(chooseTestTime({ test_time: 'ten-crop' }, undefined, true)).toBe('flip');
    expect(chooseTestTime({ test_time: 'ten-crop' })).toBe('ten-crop');
    expect(chooseTestTime({ test_time: 'bogus' })).toBe('none');
    expect(chooseTestTime({})).toBe('none');
    expect(() => chooseTestTime({}, 'five-crop')).toThrow(new FerError('test-time averaging must be none, flip, ten-crop, got "five-crop"'));
    expect(() => chooseTestTime({}, 'ten-crop', true)).toThrow(new FerError('--flip and --tta ten-crop ask for different averaging: give one'));
  });
});
