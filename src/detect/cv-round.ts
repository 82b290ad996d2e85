/**
 * OpenCV's cvRound: nearest integer, ties to even (it compiles to lrint/cvtsd2si under the
 * default rounding mode). Math.round sends ties up, which moves a detection by a pixel.
 */
export function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
