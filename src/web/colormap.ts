// Colour maps for the explorer: viridis for values that are never negative (feature maps after a
// ReLU), a blue–white–red diverging map centred on 0 for signed ones (weights, batch-norm output).

type Rgb = readonly [number, number, number];

const VIRIDIS: Rgb[] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
const DIVERGING: Rgb[] = [
  [33, 102, 172], [103, 169, 207], [209, 229, 240], [247, 247, 247], [253, 219, 199], [239, 138, 98], [178, 24, 43],
];

function sample(stops: Rgb[], t: number): Rgb {
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** How values become colours: [lo, hi] onto viridis, or [−hi, hi] onto the diverging map. */
export interface Scale {
  signed: boolean;
  lo: number;
  hi: number;
}

/** The scale for a set of values: diverging when any is negative. */
export function scaleFor(values: ArrayLike<number>, from = 0, to = values.length): Scale {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = from; i < to; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (!(lo <= hi)) return { signed: false, lo: 0, hi: 1 };
  if (lo < 0) {
    const m = Math.max(-lo, hi) || 1;
    return { signed: true, lo: -m, hi: m };
  }
  return { signed: false, lo, hi: hi > lo ? hi : lo + 1 };
}

export function colorOf(v: number, s: Scale): Rgb {
  return sample(s.signed ? DIVERGING : VIRIDIS, (v - s.lo) / (s.hi - s.lo));
}

/** Paints values[offset …] as a w×h image, one canvas pixel per value (CSS scales it up, pixelated); NaN stays transparent. */
export function paint(canvas: HTMLCanvasElement, values: ArrayLike<number>, offset: number, w: number, h: number, s: Scale): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = values[offset + i];
    // NaN marks padding (a vector laid out as a rectangle): left transparent.
    if (Number.isNaN(v)) continue;
    const [r, g, b] = colorOf(v, s);
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** A colour bar with its end values. */
export function legend(s: Scale): HTMLElement {
  const box = document.createElement('div');
  box.className = 'legend';
  const bar = document.createElement('canvas');
  const ramp = Array.from({ length: 64 }, (_, i) => s.lo + ((s.hi - s.lo) * i) / 63);
  paint(bar, ramp, 0, 64, 1, s);
  const fmt = (x: number) => (Math.abs(x) >= 100 || x === 0 ? x.toFixed(0) : x.toPrecision(2));
  box.append(fmt(s.lo), bar, fmt(s.hi));
  return box;
}
