import { encodePng } from '../image/decode.ts';
import { heatmap, lineChart } from '../image/charts.ts';
import type { Image } from '../image/image.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { formatMetrics, type Metrics } from './metrics.ts';
import type { RunFolder } from './run-folder.ts';
import type { EpochRecord } from './run-state.ts';

function side(a: Image, b: Image): Image {
  const width = a.width + b.width;
  const height = Math.max(a.height, b.height);
  const data = new Uint8Array(width * height * 4).fill(255);
  for (const [img, x0] of [[a, 0], [b, a.width]] as const) {
    for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4), (y * width + x0) * 4);
  }
  return { width, height, channels: 4, data };
}

/** Loss and accuracy per epoch, training and validation, side by side. */
export function curvesImage(log: EpochRecord[]): Image {
  const val = (f: (r: EpochRecord) => number | null) => log.map((r) => f(r) ?? Number.NaN);
  const loss = lineChart(
    [
      { name: 'training', values: log.map((r) => r.trainLoss), color: [31, 119, 180] },
      { name: 'validation', values: val((r) => r.valLoss), color: [255, 127, 14] },
    ],
    { title: 'loss (cross-entropy)', xLabel: 'epoch', yLabel: 'loss', width: 560, height: 380 },
  );
  const acc = lineChart(
    [
      { name: 'training', values: log.map((r) => 100 * r.trainAccuracy), color: [31, 119, 180] },
      { name: 'validation', values: val((r) => (r.valAccuracy === null ? null : 100 * r.valAccuracy)), color: [255, 127, 14] },
    ],
    { title: 'accuracy (%)', xLabel: 'epoch', yLabel: '%', width: 560, height: 380 },
  );
  return side(loss, acc);
}

/**
 * Writes an evaluation into a folder: `<name>.txt` (the per-class table and the confusion
 * matrix), `<name>.json`, `<name>-confusion.png`, and with a training log `curves.png`.
 * Returns the files written.
 */
export function writeEvaluation(
  run: RunFolder,
  name: string,
  text: { heading: string; title: string },
  m: Metrics,
  log: EpochRecord[] | null,
): string[] {
  const files: string[] = [];
  const put = (file: string, data: Uint8Array | string) => {
    writeFileAtomic(run.path(file), data);
    files.push(run.path(file));
  };
  put(`${name}.txt`, `${text.heading}\n\n${formatMetrics(m)}\n`);
  put(`${name}.json`, `${JSON.stringify({ heading: text.heading, ...m }, null, 2)}\n`);
  const names = m.perClass.map((c) => c.name);
  const title = `${text.title}: accuracy ${(100 * m.accuracy).toFixed(1)}% of ${m.count}`;
  put(`${name}-confusion.png`, encodePng(heatmap(m.confusion, names, names, { title })));
  if (log && log.length > 0) put('curves.png', encodePng(curvesImage(log)));
  return files;
}
