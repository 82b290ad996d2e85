import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIXELS } from '../../src/data/dataset.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { encodePng } from '../../src/image/decode.ts';
import { expectClose } from '../support/compare.ts';
import { fer } from './fer-process.ts';

// `fer eval` and `fer predict` run the model folded for inference (nn/fold.ts) unless told
// --no-fold; both ways must give the same answers. A one-epoch model on synthetic faces, trained
// here, has running statistics that moved away from their defaults.
const dir = mkdtempSync(join(tmpdir(), 'fer-fold-'));
const run = join(dir, 'run');
const csv = join(dir, 'faces.csv');
const face = join(dir, 'face.png');

beforeAll(async () => {
  const r = await fer(['train', '--backend', 'cpu', '--synthetic', '14', '--batch', '7', '--epochs', '1', '--out', run]);
  expect(r.code, r.stderr).toBe(0);
  const ds = syntheticFaces({ count: 21, seed: 9 });
  const rows = ['emotion,pixels,Usage'];
  for (let i = 0; i < ds.count; i++) rows.push(`${ds.labels[i]},${Array.from(ds.images.subarray(i * PIXELS, (i + 1) * PIXELS)).join(' ')},PublicTest`);
  writeFileSync(csv, `${rows.join('\n')}\n`);
  writeFileSync(face, encodePng({ width: 48, height: 48, channels: 1, data: ds.images.subarray(0, PIXELS) }));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Folded and unfolded logits differ by float32 roundoff (about 1e-7 relative, tests/nn/fold.test.ts);
// probabilities and the mean cross-entropy inherit that, and 1e-5 leaves a factor of a hundred.
const TOLERANCE = 1e-5;

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
