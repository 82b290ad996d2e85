// A layer's parameters as pictures: convolution filters as small images, a dense layer's weight
// matrix as one heat map, per-channel vectors (biases, batch-norm scales) as strips.
import { legend, paint, scaleFor, type Scale } from './colormap.ts';
import type { LayerInfo } from './index.ts';

export interface ParamValues {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Which slice of a [K,C,R,S] filter bank to show: one input channel, or the sum over all of them. */
export type ChannelChoice = number | 'sum';

function tile(canvas: HTMLCanvasElement, label: string): HTMLElement {
  const t = document.createElement('div');
  t.className = 'tile';
  t.append(canvas, label);
  return t;
}

function strip(p: ParamValues): HTMLElement[] {
  const constant = p.data.every((v) => v === p.data[0]);
  const text = `${p.name} [${p.shape.join('×')}]${constant ? `: all ${p.data[0]}` : ''}`;
  const label = Object.assign(document.createElement('div'), { className: 'strip-label', textContent: text });
  const wrap = Object.assign(document.createElement('div'), { className: 'wide' });
  const c = document.createElement('canvas');
  c.style.height = '14px';
  const s = scaleFor(p.data);
  paint(c, p.data, 0, p.data.length, 1, s);
  wrap.append(c);
  const row = Object.assign(document.createElement('div'), { className: 'section-head' });
  row.append(label);
  // A constant vector (an untrained bias, say) says so in its label; a flat bar would add nothing.
  if (constant) return [row];
  row.append(legend(s));
  return [row, wrap];
}

/** K images of R×S: filter k's weights on one input channel, or summed over the C channels. */
function filterImages(w: ParamValues, channel: ChannelChoice): { images: Float32Array; scale: Scale } {
  const [K, C, R, S] = w.shape;
  const images = new Float32Array(K * R * S);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      if (channel !== 'sum' && c !== channel) continue;
      for (let i = 0; i < R * S; i++) images[k * R * S + i] += w.data[(k * C + c) * R * S + i];
    }
  }
  // One scale for the whole bank, so strong and weak filters look it.
  return { images, scale: scaleFor(images) };
}

export function renderFilters(box: HTMLElement, info: LayerInfo, params: ParamValues[], channel: ChannelChoice): void {
  box.replaceChildren();
  box.className = '';
  const weight = params.find((p) => p.name.endsWith('.weight'));
  const vectors = params.filter((p) => p.shape.length === 1);
  if (info.type === 'Conv2D' && weight) {
    const [K, , R, S] = weight.shape;
    const { images, scale } = filterImages(weight, channel);
    const grid = Object.assign(document.createElement('div'), { className: 'grid filters' });
    grid.style.setProperty('--cell', '46px');
    for (let k = 0; k < K; k++) {
      const c = document.createElement('canvas');
      paint(c, images, k * R * S, S, R, scale);
      grid.append(tile(c, String(k)));
    }
    box.append(legend(scale), grid);
  } else if (info.type === 'Dense' && weight) {
    const [U, I] = weight.shape;
    const wrap = Object.assign(document.createElement('div'), { className: 'wide' });
    const c = document.createElement('canvas');
    const scale = scaleFor(weight.data);
    paint(c, weight.data, 0, I, U, scale);
    // Rows are units; keep each at least 2 CSS pixels tall however wide the matrix is.
    c.style.minHeight = `${Math.min(2 * U, 320)}px`;
    wrap.append(c);
    const note = Object.assign(document.createElement('p'), { className: 'nothing', textContent: `weight [${U}×${I}]: one row per unit, one column per input` });
    box.append(legend(scale), wrap, note);
  }
  for (const v of vectors) box.append(...strip(v));
  if (params.length === 0) box.append(Object.assign(document.createElement('p'), { className: 'nothing', textContent: 'This layer has no parameters.' }));
}
