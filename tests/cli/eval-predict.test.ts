import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../src/data/emotions.ts';
import { PIXELS } from '../../src/data/dataset.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { encodePng } from '../../src/image/decode.ts';
import { expectClose } from '../support/compare.ts';
import { evalReportDir, evalReportName } from '../../src/cli/eval.ts';
import { SHIPPED_MODEL } from '../../src/cli/model-source.ts';
import { annotateTarget, writeAnnotated } from '../../src/cli/predict.ts';
import { expectOneLineFailure, fer, lines, ROOT } from './fer-process.ts';

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
    expect(lines(bad.stderr)).toEqual([expect.stringMatching(/--split must be Training, PublicTest or PrivateTest, got "Test"/)]);
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

describe('fer eval: where the report goes and what its name says', () => {
  it('the shipped model: runs/eval-<model> or --out, never models/; the name carries split, limit and flip', async () => {
    const models = join(ROOT, 'models');
    const before = readdirSync(models).map((f) => [f, statSync(join(models, f)).mtimeMs]);
    const out = join(dir, 'eval-out');
    const r = await fer(['eval', '--backend', 'cpu', '--data', csv, '--limit', '5', '--flip', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['curves.png', 'eval-PublicTest-limit5-flip-confusion.png', 'eval-PublicTest-limit5-flip.json', 'eval-PublicTest-limit5-flip.txt']);
    expect(readFileSync(join(out, 'eval-PublicTest-limit5-flip.txt'), 'utf8')).toMatch(/5 images drawn at random, --limit 5, flip test-time averaging/);
    expect(readdirSync(models).map((f) => [f, statSync(join(models, f)).mtimeMs])).toEqual(before);

    const refused = await fer(['eval', '--backend', 'cpu', '--data', csv, '--out', models]);
    expectOneLineFailure(refused, /holds the shipped model and its committed reports; choose another folder$/);
    expect(readdirSync(models).map((f) => [f, statSync(join(models, f)).mtimeMs])).toEqual(before);
  }, 90_000);

  it('report places and names, without running a model', () => {
    expect(evalReportDir(undefined, SHIPPED_MODEL)).toBe(join('runs', 'eval-fer'));
    expect(evalReportDir(undefined, join(run, 'best.safetensors'))).toBe(run);
    expect(evalReportDir('elsewhere', SHIPPED_MODEL)).toBe('elsewhere');
    expect(() => evalReportDir(dirname(SHIPPED_MODEL), join(run, 'best.safetensors'))).toThrow(/holds the shipped model and its committed reports/);
    expect(evalReportName('PublicTest', undefined, false)).toBe('eval-PublicTest');
    expect(evalReportName('PrivateTest', 500, true)).toBe('eval-PrivateTest-limit500-flip');
  });

  it('--skip-bad names the first bad rows, as fer train does', async () => {
    const bad = join(dir, 'bad-row.csv');
    const text = readFileSync(csv, 'utf8').split('\n');
    text.splice(3, 0, '3,1 2 3,PublicTest');
    writeFileSync(bad, text.join('\n'));
    const r = await fer(['eval', '--backend', 'cpu', '--model', run, '--data', bad, '--skip-bad', '--out', join(dir, 'eval-bad')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped 1 bad rows/images: 1× wrong pixel count');
    expect(r.stderr).toContain(`  e.g. ${bad}:4: wrong pixel count`);
  }, 60_000);
});

describe('fer predict: bad images, --annotate, crops', () => {
  const photos = join(dir, 'photos');
  const bad = join(photos, 'bad.jpg');
  beforeAll(() => {
    mkdirSync(photos, { recursive: true });
    writeFileSync(join(photos, 'face.png'), readFileSync(face));
    writeFileSync(bad, 'not an image');
  });

  it('a bad image stops with one line on stderr; --skip-bad names it once on stderr and keeps stdout pure JSON', async () => {
    const stop = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--json', photos]);
    expectOneLineFailure(stop, new RegExp(`^${bad}: not a PNG or JPEG file \\(--skip-bad skips bad images\\)$`));
    expect(stop.stdout).toBe('');

    const skip = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--json', '--skip-bad', photos]);
    expect(skip.code, skip.stderr).toBe(0);
    const { results } = JSON.parse(skip.stdout);
    expect(results.map((r: { error?: string }) => r.error ?? 'ok')).toEqual([`${bad}: not a PNG or JPEG file`, 'ok']);
    expect(skip.stderr).toContain(`skipped ${bad}: not a PNG or JPEG file`);
    expect(skip.stderr).not.toContain(`${bad}: ${bad}`);
    expect(skip.stderr).toContain('skipped 1 of 2 images');

    const text = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--skip-bad', photos]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toContain('bad.jpg');
  }, 90_000);

  it('--annotate: a missing folder or a wrong extension fails before any work; .jpg writes JPEG, .png PNG', async () => {
    const nowhere = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--annotate', '/no/such/dir/out.png', face]);
    expectOneLineFailure(nowhere, /^--annotate \/no\/such\/dir\/out\.png: folder \/no\/such\/dir does not exist$/);
    const gif = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--annotate', join(dir, 'out.gif'), face]);
    expectOneLineFailure(gif, /want a file name ending in \.png, \.jpg or \.jpeg$/);
    for (const [name, magic] of [['out.jpg', [0xff, 0xd8, 0xff]], ['out.png', [0x89, 0x50, 0x4e, 0x47]]] as const) {
      const r = await fer(['predict', '--backend', 'cpu', '--model', run, '--no-detect', '--annotate', join(dir, name), face]);
      expect(r.code, r.stderr).toBe(0);
      expect([...readFileSync(join(dir, name)).subarray(0, magic.length)]).toEqual([...magic]);
    }
  }, 90_000);

  it('a write that fails is reported as a write, in one line', () => {
    const img = { width: 2, height: 2, channels: 1 as const, data: new Uint8Array(4) };
    expect(() => writeAnnotated(join(dir, 'no-such-dir', 'x.png'), img)).toThrow(/^cannot write .*x\.png \(ENOENT\)$/);
    expect(annotateTarget(undefined, false)).toBeNull();
  });

  it('a 48×48 crop with no face found gets a hint about --no-detect', async () => {
    // A flat gray crop: nothing for the cascade to find.
    const flat = join(dir, 'flat.png');
    writeFileSync(flat, encodePng({ width: 48, height: 48, channels: 1, data: new Uint8Array(48 * 48).fill(128) }));
    const r = await fer(['predict', '--backend', 'cpu', '--model', run, flat]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no face found/);
    expect(lines(r.stderr).at(-1)).toMatch(/^hint: .*--no-detect classifies the whole image$/);
  }, 60_000);
});
