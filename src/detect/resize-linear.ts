import { cvRound } from './cv-round.ts';

/**
 * Bilinear resize of 8-bit gray pixels, bit for bit as OpenCV's INTER_LINEAR_EXACT, which is
 * what detectMultiScale uses to build its pyramid (a pixel of difference shifts features
 * across stage thresholds, so the pyramid must match exactly, not approximately).
 *
 * Target pixel d samples the source at s = (d + 0.5)·scale − 0.5 with scale = 1 / (dst/src),
 * between pixels ⌊s⌋ and ⌊s⌋+1 with weights in 8.8 fixed point (the fraction rounded to
 * 1/256, ties to even). Rows are interpolated first into 8.8 values, then columns into 16.16,
 * rounded half up to 8 bits. Samples left of the first pixel centre, or right of the last,
 * take the edge pixel.
 */
interface Axis {
  /** Source index of the left/top tap for each target index. */
  ofs: Int32Array;
  /** Weight of the right/bottom tap, 0..256. */
  w1: Int32Array;
}

function axis(src: number, dst: number): Axis {
  const scale = 1 / (dst / src);
  const ofs = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    const f = scale * (d + 0.5) - 0.5;
    const i = Math.floor(f);
    if (i < 0 || src === 1) {
      ofs[d] = 0;
      w1[d] = 0;
    } else if (i >= src - 1) {
      ofs[d] = src - 1;
      w1[d] = 0;
    } else {
      ofs[d] = i;
      w1[d] = cvRound((f - i) * 256);
    }
  }
  return { ofs, w1 };
}

/** Resizes the sw×sh image `src` to dw×dh, writing into `out` (allocated if not given). */
export function resizeLinearExact(
  src: ArrayLike<number>,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  out: Uint8Array = new Uint8Array(dw * dh),
): Uint8Array {
  const ax = axis(sw, dw);
  const ay = axis(sh, dh);
  // Horizontal pass of source rows, two at a time (8.8 fixed point).
  const line0 = new Int32Array(dw);
  const line1 = new Int32Array(dw);
  const hline = (row: number, line: Int32Array) => {
    const base = row * sw;
    for (let d = 0; d < dw; d++) {
      const o = base + ax.ofs[d];
      const w1 = ax.w1[d];
      line[d] = w1 === 0 ? src[o] << 8 : src[o] * (256 - w1) + src[o + 1] * w1;
    }
  };
  let row0 = -1;
  let row1 = -1;
  for (let y = 0; y < dh; y++) {
    const r = ay.ofs[y];
    const wy = ay.w1[y];
    if (row0 !== r) {
      if (row1 === r) line0.set(line1);
      else hline(r, line0);
      row0 = r;
      row1 = -1;
    }
    const o = y * dw;
    if (wy === 0) {
      // Only one source row contributes: 8.8 → 8 bits, rounded half up.
      for (let d = 0; d < dw; d++) out[o + d] = (line0[d] + 128) >> 8;
      continue;
    }
    if (row1 !== r + 1) {
      hline(r + 1, line1);
      row1 = r + 1;
    }
    const w0 = 256 - wy;
    for (let d = 0; d < dw; d++) out[o + d] = (line0[d] * w0 + line1[d] * wy + 32768) >>> 16;
  }
  return out;
}
