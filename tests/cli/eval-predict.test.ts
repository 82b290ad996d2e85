import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../src/data/emotions.ts';
import { PIXELS } from '../../src/data/dataset.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { encodePng } from '../../src/image/decode.ts';
import { expectClose } from '../support/compare.ts';
import { fer, lines } from './fer-process.ts';

// A one-epoch model on synthetic faces and a 21-row FER2013-format CSV of other synthetic faces:
// enough to run `fer eval` and `fer predict` end to end without the real data set. One epoch
// also moves the batch norms' running statistics away from their defaults, which the folding
// tests below need.
const dir = mkdtempSync(join(tmpdir(), 'fer-eval-'));
const run = join(dir, 'run');
const csv = join(dir, 'faces.csv');
const face = join(dir, 'face.png');

beforeAll(async () => {
  const r = await fer(['train', '--backend', 'cpu', '--synthetic', '14', '--batch', '7', '--epochs', '1', '--out', run]);
  expect(r.code, r.stderr).toBe(0);
  const ds = syntheticFaces({ count: 21, seed: 5 });
  const rows = ['emotion,pixels,Usage'];
  for (let i = 0; i < ds.count; i++) rows.push(`${ds.labels[i]},${Array.from(ds.images.subarray(i * PIXELS, (i + 1) * PIXELS)).join(' ')},PublicTest`);
  writeFileSync(csv, `${rows.join('\n')}\n`);
  writeFileSync(face, encodePng({ width: 48, height: 48, channels: 1, data: ds.images.subarray(0, PIXELS) }));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fer eval', () => {
  it('reports accuracy and the confusion matrix of every image, and writes the report files', async () => {
    const r = await fer(['eval', '--backend', 'cpu', '--model', run, '--data', csv, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.count).toBe(21);
    expect(got.flip).toBe(false);
    expect(got.confusion.flat().reduce((s: number, v: number) => s + v, 0)).toBe(21);
    expect(got.accuracy).toBeCloseTo(got.confusion.reduce((s: number, row: number[], c: number) => s + row[c], 0) / 21, 10);
    expect(Number.isFinite(got.loss) && got.loss > 0).toBe(true);
    for (const f of ['eval-PublicTest.txt', 'eval-PublicTest.json', 'eval-PublicTest-confusion.png']) expect(existsSync(join(run, f)), f).toBe(true);
  }, 60_000);

  it('--flip averages each image with its mirror, and says so', async () => {
    const r = await fer(['eval', '--backend', 'cpu', '--model', run, '--data', csv, '--flip']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/21 images, flip test-time averaging/);
    expect(readFileSync(join(run, 'eval-PublicTest-flip.txt'), 'utf8')).toMatch(/flip test-time averaging/);
  }, 60_000);

  it('a split the file does not have, or a bad --split, is one clear line', async () => {
    const none = await fer(['eval', '--backend', 'cpu', '--model', run, '--data', csv, '--split', 'Training']);
    expect(none.code).toBe(1);
    expect(lines(none.stderr).at(-1)).toMatch(/no Training images/);
    const bad = await fer(['eval', '--backend', 'cpu', '--model', run, '--data', csv, '--split', 'Test']);
    expect(lines(bad.stderr)).toEqual([expect.stringMatching(/--split must be one of Training, PublicTest, PrivateTest, got "Test"/)]);
  }, 60_000);
});

describe('fer predict', () => {
  it('gives seven probabilities for a face crop, with and without --flip', async () => {
    for (const extra of [[], ['--flip']]) {
      const r = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--json', ...extra, face]);
      expect(r.code, r.stderr).toBe(0);
      const { model, results } = JSON.parse(r.stdout);
      expect(model.warning).toMatch(/synthetic/);
      const [f] = results[0].faces;
      expect(f.probabilities).toHaveLength(EMOTIONS.length);
      expect(f.probabilities.reduce((s: number, p: number) => s + p, 0)).toBeCloseTo(1, 5);
      expect(EMOTIONS).toContain(f.emotion);
    }
  }, 60_000);
});

// Folded and unfolded logits differ by float32 roundoff (about 1e-7 relative, tests/nn/fold.test.ts);
// probabilities and the mean cross-entropy inherit that, and 1e-5 leaves a factor of a hundred.
const TOLERANCE = 1e-5;

// Both commands run the model folded for inference (nn/fold.ts) unless told --no-fold.
describe('folding in fer eval and fer predict', () => {
  it('fer eval: the same confusion matrix and loss with and without --no-fold', async () => {
    const [folded, plain] = await Promise.all([
      fer(['eval', '--backend', 'cpu', '--model', run, '--data', csv, '--json']),
      fer(['eval', '--backend', 'cpu', '--model', run, '--data', csv, '--json', '--no-fold']),
    ]);
    expect(folded.code, folded.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    const a = JSON.parse(folded.stdout);
    const b = JSON.parse(plain.stdout);
    expect(a.confusion).toEqual(b.confusion);
    expectClose([a.loss], [b.loss], TOLERANCE, 'mean cross-entropy');
  }, 90_000);

  it('fer predict: the same probabilities with and without --no-fold', async () => {
    const args = ['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--json', face];
    const [folded, plain] = await Promise.all([fer(args), fer([...args, '--no-fold'])]);
    expect(folded.code, folded.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    const p = (out: string) => JSON.parse(out).results[0].faces[0].probabilities as number[];
    expectClose(p(folded.stdout), p(plain.stdout), TOLERANCE, 'probabilities');
  }, 90_000);
});
