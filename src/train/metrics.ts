/**
 * Classification metrics from a confusion matrix: confusion[t][p] counts examples of true
 * class t predicted as p.
 */
export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Examples of this class in the data. */
  support: number;
}

export interface Metrics {
  count: number;
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  confusion: number[][];
}

export function emptyConfusion(k: number): number[][] {
  return Array.from({ length: k }, () => new Array<number>(k).fill(0));
}

export function metricsFromConfusion(confusion: number[][], classes: readonly string[]): Metrics {
  const k = classes.length;
  let count = 0;
  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    let row = 0;
    let col = 0;
    for (let j = 0; j < k; j++) {
      row += confusion[c][j];
      col += confusion[j][c];
    }
    count += row;
    correct += tp;
    // A class never predicted has no precision to speak of; scikit-learn reports 0 there too.
    const precision = col > 0 ? tp / col : 0;
    const recall = row > 0 ? tp / row : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ name: classes[c], precision, recall, f1, support: row });
  }
  const present = perClass.filter((m) => m.support > 0);
  const macroF1 = present.length > 0 ? present.reduce((s, m) => s + m.f1, 0) / present.length : 0;
  return { count, accuracy: count > 0 ? correct / count : 0, macroF1, perClass, confusion };
}

/** The report as aligned text: the per-class table, then the confusion matrix. */
export function formatMetrics(m: Metrics): string {
  const names = m.perClass.map((c) => c.name);
  const w = Math.max(9, ...names.map((n) => n.length));
  const pct = (v: number) => `${(100 * v).toFixed(1).padStart(6)}%`;
  const lines = [
    `accuracy ${(100 * m.accuracy).toFixed(2)}% on ${m.count} images, macro-F1 ${m.macroF1.toFixed(3)}`,
    '',
    `${'class'.padEnd(w)}  precision    recall        F1  support`,
    ...m.perClass.map((c) => `${c.name.padEnd(w)}    ${pct(c.precision)}   ${pct(c.recall)}   ${c.f1.toFixed(3).padStart(7)}  ${String(c.support).padStart(7)}`),
    '',
    `confusion (rows: true class, columns: predicted)`,
    `${''.padEnd(w)} ${names.map((n) => n.slice(0, 7).padStart(8)).join('')}`,
    ...m.confusion.map((row, i) => `${names[i].padEnd(w)} ${row.map((v) => String(v).padStart(8)).join('')}`),
  ];
  return lines.join('\n');
}
