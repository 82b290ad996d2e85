// A layer's output for the current face: one colour-mapped image per channel for [C,H,W], a
// grid of cells for a long vector, labelled bars for a short one (the logits).
import { colorOf, legend, paint, scaleFor } from './colormap.ts';

export type MapScale = 'layer' | 'map';

function mapGrid(box: HTMLElement, shape: number[], data: Float32Array, mode: MapScale): void {
  const [C, H, W] = shape;
  const layerScale = scaleFor(data);
  const grid = Object.assign(document.createElement('div'), { className: 'grid maps' });
  grid.style.setProperty('--cell', H >= 24 ? '88px' : H >= 12 ? '64px' : '44px');
  grid.style.setProperty('--aspect', String(W / H));
  for (let c = 0; c < C; c++) {
    const canvas = document.createElement('canvas');
    const s = mode === 'layer' ? layerScale : scaleFor(data, c * H * W, (c + 1) * H * W);
    paint(canvas, data, c * H * W, W, H, s);
    const t = Object.assign(document.createElement('div'), { className: 'tile' });
    t.append(canvas, String(c));
    grid.append(t);
  }
  box.append(mode === 'layer' ? legend(layerScale) : Object.assign(document.createElement('p'), { className: 'nothing', textContent: 'each map scaled to its own range' }), grid);
}

function vectorGrid(box: HTMLElement, data: Float32Array): void {
  const cols = Math.ceil(Math.sqrt(data.length * 4));
  const rows = Math.ceil(data.length / cols);
  const padded = new Float32Array(cols * rows).fill(NaN);
  padded.set(data);
  const s = scaleFor(data);
  const wrap = Object.assign(document.createElement('div'), { className: 'wide' });
  const canvas = document.createElement('canvas');
  paint(canvas, padded, 0, cols, rows, s);
  canvas.style.maxWidth = `${cols * 14}px`;
  wrap.append(canvas);
  box.append(legend(s), wrap);
}

function labelledBars(box: HTMLElement, data: Float32Array, labels: readonly string[] | null): void {
  const s = scaleFor(data);
  const m = Math.max(...Array.from(data, Math.abs)) || 1;
  const list = Object.assign(document.createElement('ol'), { className: 'bars class-bars' });
  data.forEach((v, i) => {
    const row = Object.assign(document.createElement('li'), { className: 'bar-row' });
    const [r, g, b] = colorOf(v, s);
    row.style.setProperty('--bar', `rgb(${r} ${g} ${b})`);
    const track = Object.assign(document.createElement('span'), { className: 'bar-track' });
    const fill = Object.assign(document.createElement('span'), { className: 'bar-fill' });
    fill.style.width = `${((100 * Math.abs(v)) / m).toFixed(1)}%`;
    track.append(fill);
    row.append(Object.assign(document.createElement('span'), { className: 'bar-label', textContent: labels?.[i] ?? String(i) }), track, Object.assign(document.createElement('span'), { className: 'bar-value', textContent: v.toFixed(3) }));
    list.append(row);
  });
  box.append(list);
}

/** Renders `data` of one face's activation `shape` (no batch axis) into `box`. */
export function renderFeatureMaps(box: HTMLElement, shape: number[], data: Float32Array, mode: MapScale, labels: readonly string[] | null): void {
  box.replaceChildren();
  box.dataset.shape = shape.join('x');
  if (shape.length === 3) mapGrid(box, shape, data, mode);
  else if (data.length <= 16) labelledBars(box, data, labels);
  else vectorGrid(box, data);
}
