import { FerError } from '../backend/errors.ts';
import { Canvas, textWidth, type Color } from './canvas.ts';
import { CAP_HEIGHT } from './font.ts';
import type { Image } from './image.ts';
import { niceTicks } from './ticks.ts';

/** Training curves: one line per series, value i plotted at epoch i+1. */
export interface Series {
  name: string;
  values: number[];
  color: Color;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

export interface HeatmapOptions {
  title: string;
  /** Names the columns (default "predicted"). */
  xLabel?: string;
  /** Names the rows (default "true"). */
  yLabel?: string;
}

const INK: Color = [33, 37, 41];
const AXIS: Color = [90, 90, 90];
const GRID: Color = [228, 228, 228];
const MUTED: Color = [110, 110, 110];

/** Draws `s` centred on x. */
function centred(c: Canvas, x: number, y: number, s: string, color: Color, scale = 1): void {
  c.text(x - textWidth(s, scale) / 2, y, s, color, scale);
}

/**
 * Where the legend box goes: the corner of the plot (top right first, then top left, bottom
 * right, bottom left) that covers the fewest plotted points, so it never hides the last epoch's
 * value when the curves end in the top right (a rising accuracy).
 */
export function legendCorner(
  plot: { left: number; right: number; top: number; bottom: number },
  box: { width: number; height: number },
  points: readonly (readonly [number, number])[],
): { x: number; y: number } {
  const m = 6;
  const corners = [
    { x: plot.right - box.width - m, y: plot.top + m },
    { x: plot.left + m + 4, y: plot.top + m },
    { x: plot.right - box.width - m, y: plot.bottom - box.height - m },
    { x: plot.left + m + 4, y: plot.bottom - box.height - m },
  ];
  const covered = (c: { x: number; y: number }) =>
    points.filter(([x, y]) => x >= c.x - 4 && x <= c.x + box.width + 4 && y >= c.y - 4 && y <= c.y + box.height + 4).length;
  let best = corners[0];
  let fewest = covered(best);
  for (const c of corners.slice(1)) {
    const n = covered(c);
    if (n < fewest) [best, fewest] = [c, n];
  }
  return best;
}

export function lineChart(series: Series[], opts: LineChartOptions): Image {
  const { title, xLabel, yLabel, width = 720, height = 420 } = opts;
  const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
  if (finite.length === 0) throw new FerError('lineChart: series must hold at least one finite value');
  const epochs = Math.max(...series.map((s) => s.values.length));

  const y = niceTicks(Math.min(...finite), Math.max(...finite), 5);
  const yLo = y.ticks[0];
  const yHi = y.ticks[y.ticks.length - 1];
  const yLabels = y.ticks.map((t) => t.toFixed(y.decimals));
  // Epochs are whole numbers: ticks at 1 and every multiple of an integer step.
  const xLo = 1;
  const xHi = Math.max(epochs, 2);
  const xStep = Math.max(1, niceTicks(xLo, xHi, 8).step);
  const xTicks = [1, ...Array.from({ length: Math.floor(xHi / xStep) }, (_, i) => (i + 1) * xStep).filter((t) => t > 1 && t <= xHi)];

  const c = Canvas.blank(width, height);
  const left = 18 + Math.max(...yLabels.map((s) => textWidth(s)));
  const right = width - 24;
  const top = 58;
  const bottom = height - 46;
  const px = (epoch: number) => left + ((epoch - xLo) / (xHi - xLo)) * (right - left);
  const py = (v: number) => bottom - ((v - yLo) / (yHi - yLo)) * (bottom - top);

  centred(c, width / 2, 14, title, INK, 2);
  c.text(8, top - 20, yLabel, MUTED);
  for (const [i, t] of y.ticks.entries()) {
    const yy = Math.round(py(t));
    c.fillRect(left, yy, right - left + 1, 1, GRID);
    c.text(left - 8 - textWidth(yLabels[i]), yy - 3, yLabels[i], INK);
  }
  for (const t of xTicks) {
    const xx = Math.round(px(t));
    c.fillRect(xx, bottom + 1, 1, 4, AXIS);
    centred(c, xx, bottom + 9, String(t), INK);
  }
  c.fillRect(left, top, 1, bottom - top + 1, AXIS);
  c.fillRect(left, bottom, right - left + 1, 1, AXIS);
  centred(c, (left + right) / 2, height - 18, xLabel, MUTED);

  // Every point the curves pass through (segments sampled every 4 pixels), for the legend.
  const drawn: [number, number][] = [];
  for (const s of series) {
    let prev: [number, number] | null = null;
    for (const [i, v] of s.values.entries()) {
      if (!Number.isFinite(v)) {
        prev = null; // a gap, not a line through a missing epoch
        continue;
      }
      const p: [number, number] = [px(i + 1), py(v)];
      if (prev) c.line(prev[0], prev[1], p[0], p[1], s.color, 2);
      const steps = prev ? Math.ceil(Math.hypot(p[0] - prev[0], p[1] - prev[1]) / 4) : 0;
      for (let k = 1; k <= steps; k++) drawn.push([prev![0] + ((p[0] - prev![0]) * k) / steps, prev![1] + ((p[1] - prev![1]) * k) / steps]);
      drawn.push(p);
      prev = p;
    }
    if (epochs <= 40) s.values.forEach((v, i) => Number.isFinite(v) && c.dot(px(i + 1), py(v), 2.5, s.color));
  }

  // Legend inside the plot, in the corner the curves leave most free, on a translucent panel.
  const rowH = 14;
  const legendW = 38 + Math.max(...series.map((s) => textWidth(s.name)));
  const legendH = 8 + rowH * series.length;
  const { x: lx, y: ly } = legendCorner({ left, right, top, bottom }, { width: legendW, height: legendH }, drawn);
  c.fillRect(lx, ly, legendW, legendH, [255, 255, 255, 225]);
  c.strokeRect(lx, ly, legendW, legendH, [200, 200, 200]);
  series.forEach((s, i) => {
    const cy = ly + 4 + i * rowH + 6;
    c.line(lx + 8, cy, lx + 26, cy, s.color, 2);
    c.dot(lx + 17, cy, 2.5, s.color);
    c.text(lx + 32, cy - 3, s.name, INK);
  });
  return c.image;
}

/** Sequential white → dark blue, for 0 ≤ t ≤ 1. */
export function blues(t: number): Color {
  const stops: [number, number, number][] = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const u = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(Math.floor(u), stops.length - 2);
  const f = u - i;
  return [0, 1, 2].map((k) => Math.round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f)) as unknown as Color;
}

/**
 * A confusion matrix: rows are true classes, columns predictions. Each cell shows its count,
 * and the share of its row beneath; its colour is that share (so every class reads on the same
 * scale however many samples it has).
 */
export function heatmap(matrix: number[][], rowLabels: string[], colLabels: string[], opts: HeatmapOptions): Image {
  const { title, xLabel = 'predicted', yLabel = 'true' } = opts;
  if (matrix.length === 0 || matrix.length !== rowLabels.length) throw new FerError(`heatmap: matrix has ${matrix.length} rows but ${rowLabels.length} row labels`);
  const cols = colLabels.length;
  const bad = matrix.findIndex((r) => r.length !== cols);
  if (bad >= 0) throw new FerError(`heatmap: row ${bad} has ${matrix[bad].length} cells, wanted ${cols} (one per column label)`);

  const cellW = Math.max(48, Math.max(...colLabels.map((s) => textWidth(s))) + 12);
  const cellH = 40;
  const labelW = Math.max(textWidth(yLabel), ...rowLabels.map((s) => textWidth(s)));
  const gx = 16 + labelW + 10;
  const gy = 74;
  const barX = gx + cols * cellW + 24;
  const width = Math.max(barX + 60, textWidth(title, 2) + 32);
  const height = gy + matrix.length * cellH + 24;
  const c = Canvas.blank(width, height);

  centred(c, width / 2, 14, title, INK, 2);
  centred(c, gx + (cols * cellW) / 2, gy - 36, xLabel, MUTED);
  colLabels.forEach((s, j) => centred(c, gx + j * cellW + cellW / 2, gy - 16, s, INK));
  c.text(gx - 10 - textWidth(yLabel), gy - 16, yLabel, MUTED);

  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const y0 = gy + i * cellH;
    c.text(gx - 10 - textWidth(rowLabels[i]), y0 + cellH / 2 - CAP_HEIGHT / 2, rowLabels[i], INK);
    row.forEach((v, j) => {
      const share = total > 0 ? v / total : 0;
      const x0 = gx + j * cellW;
      c.fillRect(x0, y0, cellW, cellH, blues(share));
      const ink: Color = share > 0.5 ? [255, 255, 255] : INK;
      const count = String(Math.round(v));
      const scale = textWidth(count, 2) <= cellW - 8 ? 2 : 1;
      centred(c, x0 + cellW / 2, y0 + 7, count, ink, scale);
      centred(c, x0 + cellW / 2, y0 + 7 + CAP_HEIGHT * scale + 5, `${Math.round(100 * share)}%`, ink);
    });
  });
  // Thin white gridlines between cells, then a frame.
  for (let j = 1; j < cols; j++) c.fillRect(gx + j * cellW, gy, 1, matrix.length * cellH, [255, 255, 255]);
  for (let i = 1; i < matrix.length; i++) c.fillRect(gx, gy + i * cellH, cols * cellW, 1, [255, 255, 255]);
  c.strokeRect(gx - 1, gy - 1, cols * cellW + 2, matrix.length * cellH + 2, AXIS);

  // Colour bar for the row share, 100% at the top.
  const barH = matrix.length * cellH;
  for (let k = 0; k < barH; k++) c.fillRect(barX, gy + k, 12, 1, blues(1 - k / (barH - 1)));
  c.strokeRect(barX - 1, gy - 1, 14, barH + 2, AXIS);
  for (const [t, s] of [[1, '100%'], [0.5, '50%'], [0, '0%']] as const) c.text(barX + 18, gy + (1 - t) * (barH - 1) - 3, s, INK);
  c.text(barX - 6, gy - 16, 'row %', MUTED);
  return c.image;
}
