import { describe, expect, it } from 'vitest';
import { emptyConfusion, formatMetrics, metricsFromConfusion } from '../../src/train/metrics.ts';

describe('metrics from a confusion matrix (rows: true class, columns: predicted)', () => {
  // 12 examples. a: 5 right, 1 taken for b. b: 2 taken for a, 3 right, 1 taken for c. c: none, predicted once.
  const confusion = [
    [5, 1, 0],
    [2, 3, 1],
    [0, 0, 0],
  ];
  const m = metricsFromConfusion(confusion, ['a', 'b', 'c']);

  it('accuracy, per-class precision, recall, F1 and support, worked by hand', () => {
    expect(m.count).toBe(12);
    expect(m.accuracy).toBeCloseTo(8 / 12, 12);
    const [a, b, c] = m.perClass;
    // a: tp 5, predicted a 7 times, 6 true a
    expect(a).toMatchObject({ name: 'a', support: 6 });
    expect(a.precision).toBeCloseTo(5 / 7, 12);
    expect(a.recall).toBeCloseTo(5 / 6, 12);
    expect(a.f1).toBeCloseTo(10 / 13, 12); // 2·(5/7)(5/6)/((5/7)+(5/6))
    // b: tp 3, predicted b 4 times, 6 true b
    expect(b.precision).toBeCloseTo(3 / 4, 12);
    expect(b.recall).toBeCloseTo(1 / 2, 12);
    expect(b.f1).toBeCloseTo(3 / 5, 12);
    // c: never present, predicted once (wrongly): precision 0/1, recall undefined → 0, as scikit-learn
    expect(c).toEqual({ name: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('macro-F1 averages the classes present in the data', () => {
    expect(m.macroF1).toBeCloseTo((10 / 13 + 3 / 5) / 2, 12);
  });

  it('a class present but never predicted has precision 0 (no division by zero)', () => {
    const n = metricsFromConfusion([[2, 0], [3, 0]], ['x', 'y']);
    expect(n.perClass[1]).toEqual({ name: 'y', precision: 0, recall: 0, f1: 0, support: 3 });
    expect(n.perClass[0].precision).toBeCloseTo(2 / 5, 12);
    expect(n.perClass[0].recall).toBe(1);
    expect(n.macroF1).toBeCloseTo((2 * (2 / 5)) / (2 / 5 + 1) / 2, 12);
    expect(n.accuracy).toBeCloseTo(2 / 5, 12);
  });

  it('an empty confusion matrix gives zeros, not NaN', () => {
    const e = metricsFromConfusion(emptyConfusion(3), ['a', 'b', 'c']);
    expect(e.count).toBe(0);
    expect(e.accuracy).toBe(0);
    expect(e.macroF1).toBe(0);
    expect(emptyConfusion(2)).toEqual([[0, 0], [0, 0]]);
  });

  it('the text report shows the numbers and the matrix', () => {
    const text = formatMetrics(m);
    const lines = text.split('\n');
    expect(lines[0]).toBe('accuracy 66.67% on 12 images, macro-F1 0.685');
    expect(text).toContain('a              71.4%     83.3%     0.769        6');
    expect(text).toContain('b              75.0%     50.0%     0.600        6');
    expect(lines[lines.length - 3]).toMatch(/^a\s+5\s+1\s+0$/);
    expect(lines[lines.length - 1]).toMatch(/^c\s+0\s+0\s+0$/);
  });
});
