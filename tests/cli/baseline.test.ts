import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ferDir } from '../data/fer2013-dir.ts';
import { expectOneLineFailure, fer } from './fer-process.ts';

// `fer baseline` end to end on the first 60 Training and 60 PublicTest faces of the FER2013 sample.
const dir = mkdtempSync(join(tmpdir(), 'fer-baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sample = ferDir ? join(ferDir, 'sample.csv') : '';

function expectReport(got: Record<string, unknown> & { confusion: number[][]; count: number; accuracy: number }): void {
  expect(got.count).toBe(60);
  expect(got.trainCount).toBe(60);
  expect(got.confusion.flat().reduce((s, v) => s + v, 0)).toBe(60);
  expect(got.accuracy).toBeCloseTo(got.confusion.reduce((s, row, c) => s + row[c], 0) / 60, 10);
  expect(got.perClass).toHaveLength(7);
  expect(Number.isFinite(got.macroF1)).toBe(true);
  expect(Number.isFinite(got.seconds) && Number.isFinite(got.load)).toBe(true);
}

describe.skipIf(!ferDir)('fer baseline on the FER2013 sample', () => {
  it('knn --json prints one JSON object and writes the eval-style report files', async () => {
    const out = join(dir, 'knn');
    const r = await fer(['baseline', 'knn', '--data', sample, '--limit', '60', '--k', '3', '--metric', 'l2', '--backend', 'cpu', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got).toMatchObject({ method: 'knn', options: { k: 3, metric: 'l2' }, split: 'PublicTest', backend: 'cpu' });
    expectReport(got);
    for (const f of ['baseline-PublicTest.txt', 'baseline-PublicTest.json', 'baseline-PublicTest-confusion.png']) expect(existsSync(join(out, f)), f).toBe(true);
    const saved = JSON.parse(readFileSync(join(out, 'baseline-PublicTest.json'), 'utf8'));
    expect(saved.accuracy).toBe(got.accuracy);
    expect(saved.heading).toMatch(/^KNN k=3 l2: trained on 60 Training images, tested on 60 PublicTest images/);
  }, 60_000);

  it('svm prints the per-class table and the confusion matrix, and says what it trained', async () => {
    const out = join(dir, 'svm');
    const r = await fer(['baseline', 'svm', '--kernel', 'rbf', '--features', '200', '--epochs', '2', '--data', sample, '--limit', '60', '--backend', 'cpu', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^SVM rbf \(200 random features, gamma 0\.000109\), lambda 0\.0001, 2 epochs, seed 1: trained on 60 Training images/);
    expect(r.stdout).toMatch(/accuracy \d+\.\d\d% on 60 images, macro-F1/);
    expect(r.stdout).toMatch(/confusion \(rows: true class, columns: predicted\)/);
    expect(readFileSync(join(out, 'baseline-PublicTest.txt'), 'utf8')).toMatch(/SVM rbf/);
  }, 60_000);

  it('svm linear --json', async () => {
    const r = await fer(['baseline', 'svm', '--kernel', 'linear', '--epochs', '1', '--data', sample, '--limit', '60', '--backend', 'cpu', '--out', join(dir, 'lin'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got).toMatchObject({ method: 'svm', options: { kernel: 'linear', epochs: 1, seed: 1 } });
    expectReport(got);
  }, 60_000);
});

describe('fer baseline errors are one line', () => {
  const data = sample || join(dir, 'none.csv');
  const cases: [string[], RegExp][] = [
    [['baseline', 'knn', '--data', join(dir, 'missing.csv')], /missing\.csv: no such file or folder/],
    [['baseline', 'knn', '--data', data, '--metric', 'cosine'], /--metric must be l1 or l2, got "cosine"/],
    [['baseline', 'knn', '--data', data, '--k', '0'], /--k must be a positive integer, got "0"/],
    [['baseline', 'svm', '--data', data, '--kernel', 'sigmoid'], /--kernel must be linear, rbf or poly, got "sigmoid"/],
    [['baseline', 'svm', '--data', data, '--k', '3'], /--k is a knn option, not svm's/],
    [['baseline', 'forest', '--data', data], /baseline needs a method, knn or svm, got "forest"/],
    [['baseline', 'knn'], /baseline needs --data PATH/],
    [['baseline', 'knn', '--data', data, '--split', 'Training'], /--split must be PublicTest or PrivateTest, got "Training"/],
    [['baseline', 'knn', '--data', data, '--neighbours', '3'], /^unknown option --neighbours; fer baseline --help lists the options$/],
  ];
  for (const [args, message] of cases) {
    // --backend cpu: no GPU probe, whose driver warnings on stderr would blur the one line.
    it(args.slice(1).join(' ').replace(dir, '<tmp>'), async () => expectOneLineFailure(await fer([...args, '--backend', 'cpu']), message), 30_000);
  }
});
