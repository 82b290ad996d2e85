import { describe, expect, it } from 'vitest';
import { integral, rectSum, tiltedIntegral, tiltedRectSum } from '../../src/detect/integral.ts';
import { resizeLinearExact } from '../../src/detect/resize-linear.ts';
import { randomInt, rng, TEST_SEED } from '../support/random.ts';

function randomPixels(n: number, next = rng(TEST_SEED + 1)): Uint8Array {
  return Uint8Array.from({ length: n }, () => 1 + Math.floor(next() * 255));
}

describe('integral tables', () => {
  it('sum and sqsum match direct sums, with a row stride wider than the image', () => {
    const [w, h, stride] = [13, 9, 17];
    const img = randomPixels(w * h);
    const sum = new Int32Array(stride * (h + 1)).fill(-7);
    const sq = new Int32Array(stride * (h + 1)).fill(-7);
    integral(img, w, h, stride, sum, sq);
    for (let Y = 0; Y <= h; Y++) {
      for (let X = 0; X <= w; X++) {
        let s = 0;
        let s2 = 0;
        for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) (s += img[y * w + x]), (s2 += img[y * w + x] ** 2);
        expect(sum[Y * stride + X]).toBe(s);
        expect(sq[Y * stride + X]).toBe(s2);
      }
    }
    for (let t = 0; t < 20; t++) {
      const x = randomInt(0, w - 1);
      const y = randomInt(0, h - 1);
      const rw = randomInt(1, w - x);
      const rh = randomInt(1, h - y);
      let s = 0;
      for (let yy = y; yy < y + rh; yy++) for (let xx = x; xx < x + rw; xx++) s += img[yy * w + xx];
      expect(rectSum(sum, stride, x, y, rw, rh)).toBe(s);
    }
  });

  it('squared sums wrap modulo 2^32 like CV_32S, and window differences stay exact', () => {
    // 300×300 pixels of 255: sqsum reaches 5.9e9 > 2^32.
    const [w, h] = [300, 300];
    const sum = new Int32Array((w + 1) * (h + 1));
    const sq = new Int32Array((w + 1) * (h + 1));
    integral(new Uint8Array(w * h).fill(255), w, h, w + 1, sum, sq);
    expect(sq[h * (w + 1) + w]).not.toBe(255 * 255 * w * h);
    expect(rectSum(sq, w + 1, 250, 250, 50, 50) >>> 0).toBe(255 * 255 * 2500);
  });

  it('tilted table matches its definition: tilted(X,Y) = Σ_{y<Y, |x−X+1| ≤ Y−y−1} I(x,y)', () => {
    const [w, h, stride] = [11, 8, 14];
    const img = randomPixels(w * h);
    const t = new Int32Array(stride * (h + 1)).fill(-7);
    tiltedIntegral(img, w, h, stride, t);
    for (let Y = 0; Y <= h; Y++) {
      for (let X = 0; X <= w; X++) {
        let s = 0;
        for (let y = 0; y < Y; y++) for (let x = 0; x < w; x++) if (Math.abs(x - X + 1) <= Y - y - 1) s += img[y * w + x];
        expect(t[Y * stride + X]).toBe(s);
      }
    }
  });

  it('a tilted rectangle sums its 2·w·h pixels', () => {
    const [W, H] = [16, 16];
    const img = randomPixels(W * H);
    const t = new Int32Array((W + 1) * (H + 1));
    tiltedIntegral(img, W, H, W + 1, t);
    const ones = new Int32Array((W + 1) * (H + 1));
    tiltedIntegral(new Uint8Array(W * H).fill(1), W, H, W + 1, ones);
    for (let k = 0; k < 20; k++) {
      const w = randomInt(1, 5);
      const h = randomInt(1, 5);
      const x = randomInt(h, W - w);
      const y = randomInt(0, H - w - h);
      expect(tiltedRectSum(ones, W + 1, x, y, w, h)).toBe(2 * w * h);
      // The covered pixels, with a = (px−x)+(py−y) and b = (py−y)−(px−x): −1 ≤ a ≤ 2w−2, 1 ≤ b ≤ 2h.
      let s = 0;
      for (let py = 0; py < H; py++) {
        for (let px = 0; px < W; px++) {
          const a = px - x + (py - y);
          const b = py - y - (px - x);
          if (a >= -1 && a <= 2 * w - 2 && b >= 1 && b <= 2 * h) s += img[py * W + px];
        }
      }
      expect(tiltedRectSum(t, W + 1, x, y, w, h)).toBe(s);
    }
  });
});

describe('resizeLinearExact (OpenCV INTER_LINEAR_EXACT)', () => {
  // A 9×7 pattern and its resizes as OpenCV 4.14 wrote them (cv2.resize(src, size,
  // interpolation=cv2.INTER_LINEAR_EXACT)): the pyramid must match bit for bit.
  const src = Uint8Array.from({ length: 63 }, (_, i) => (i * 37 + 11) % 256);
  const opencv: [number, number, number[]][] = [
    [5, 4, [55, 121, 188, 159, 65, 177, 179, 67, 133, 181, 87, 135, 201, 89, 91, 203, 109, 80, 147, 117]],
    [4, 7, [34, 117, 201, 28, 111, 194, 22, 105, 188, 47, 99, 182, 105, 92, 176, 163, 86, 169, 221, 80, 163, 246, 74, 157, 240, 67, 151, 138]],
    [
      8,
      6,
      [
        20, 61, 103, 145, 174, 207, 57, 55, 110, 151, 173, 170, 104, 62, 103, 145, 193, 134, 129, 68, 110, 152, 193, 135, 133, 75, 116, 158, 200, 139, 134,
        75, 123, 165, 206, 164, 98, 95, 117, 158, 213, 211, 61, 94, 123, 165, 207, 28,
      ],
    ],
    [
      13,
      10,
      [
        11, 31, 57, 82, 108, 133, 159, 185, 210, 216, 64, 31, 51, 53, 73, 99, 125, 150, 176, 201, 130, 112, 128, 74, 73, 93, 107, 127, 153, 178, 165, 166,
        191, 84, 50, 76, 102, 127, 147, 161, 181, 207, 232, 108, 41, 66, 83, 104, 130, 156, 181, 201, 215, 145, 94, 120, 90, 81, 107, 133, 158, 184, 209,
        158, 89, 179, 110, 59, 84, 110, 135, 161, 187, 178, 148, 174, 123, 53, 67, 87, 112, 138, 164, 185, 202, 227, 160, 36, 61, 87, 107, 121, 141, 166,
        192, 218, 184, 77, 102, 103, 90, 115, 141, 161, 175, 195, 194, 140, 156, 138, 67, 92, 118, 143, 169, 142, 100, 217, 237, 204, 52, 58, 83, 109, 135,
        160, 186, 211, 119, 1,
      ],
    ],
  ];
  for (const [w, h, want] of opencv) {
    it(`9×7 → ${w}×${h} matches OpenCV bit for bit`, () => {
      expect(Array.from(resizeLinearExact(src, 9, 7, w, h))).toEqual(want);
    });
  }

  it('interpolates a 2-pixel row by hand: [0, 255] → [0, 64, 191, 255]', () => {
    // Sample points −0.25 (edge), 0.25, 0.75, 1.25 (edge); weights 64/256 and 192/256, rounded half up.
    expect(Array.from(resizeLinearExact([0, 255], 2, 1, 4, 1))).toEqual([0, 64, 191, 255]);
  });

  it('leaves a same-size image unchanged and a flat image flat', () => {
    const img = randomPixels(35);
    expect(Array.from(resizeLinearExact(img, 7, 5, 7, 5))).toEqual(Array.from(img));
    expect(new Set(resizeLinearExact(new Uint8Array(35).fill(93), 7, 5, 4, 3))).toEqual(new Set([93]));
  });
});
