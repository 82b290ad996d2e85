/**
 * "Nice" axis ticks: a step of 1, 2 or 5 × 10ᵏ giving about `target` intervals, and the ticks
 * from the last multiple of the step at or below `lo` to the first at or above `hi`.
 */
export interface Ticks {
  ticks: number[];
  step: number;
  /** Decimals that print every tick exactly (0 for steps ≥ 1). */
  decimals: number;
}

export function niceTicks(lo: number, hi: number, target = 5): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`niceTicks: range must be finite, got ${lo}..${hi}`);
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    // A flat series still gets an axis around its value.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  const step = (r > 5 ? 10 : r > 2 ? 5 : r > 1 ? 2 : 1) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return { ticks, step, decimals };
}
