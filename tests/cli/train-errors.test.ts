import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../train/tiny-run.ts';
import { expectOneLineFailure, fer, lines, ROOT } from './fer-process.ts';

describe('fer train: one clear line for bad input', () => {
  it('unknown flag, bad numbers, a wrong --data path, a missing --resume folder', async () => {
    const unknown = await fer(['train', '--backend', 'cpu', '--bogus']);
    expectOneLineFailure(unknown, /^unknown option --bogus; fer train --help lists the options$/);
    expect(lines(unknown.stderr)).toHaveLength(1);

    for (const [args, message] of [
      [['--epochs', 'two'], /^--epochs must be a positive integer, got "two"$/],
      [['--epochs', '-1'], /^--epochs must be a positive integer, got "-1"$/],
      [['--lr', '-1'], /^--lr must be a number > 0, got "-1"$/],
      [['--batch-size', '32'], /^unknown option --batch-size \(did you mean --batch\?\); fer train --help lists the options$/],
      [['--batch', '1'], /^--batch must be an integer >= 2, got "1"$/],
      [['--lr=-0.1'], /^--lr must be a number > 0, got "-0.1"$/],
      [['--momentum', '1.5', '--optimizer', 'sgd'], /^--momentum must be a number in \[0, 1\), got "1.5"$/],
      [['--optimizer', 'rmsprop'], /^--optimizer must be adam or sgd, got "rmsprop"$/],
      [['--backend', 'tpu'], /^--backend must be webgpu, wasm or cpu, got "tpu"$/],
      [['--model', 'huge'], /^unknown model "huge": choose seed, small or vgg$/],
    ] as const) {
      const r = await fer(['train', '--backend', 'cpu', ...args, '--out', join(tempDir('cli-bad'), 'run')]);
      expectOneLineFailure(r, message);
      expect(lines(r.stderr), r.stderr).toHaveLength(1);
    }

    // Never a run in the shipped model's folder: it would replace models/log.json and curves.png.
    const shipped = await fer(['train', '--backend', 'cpu', '--out', join(ROOT, 'models')]);
    expectOneLineFailure(shipped, /^--out .*models: .* holds the shipped model and its committed reports; choose another folder$/);

    const missing = join(tempDir('cli-data'), 'fer2013.csv');
    const data = await fer(['train', '--backend', 'cpu', '--data', missing, '--out', join(tempDir('cli-bad'), 'run')]);
    expectOneLineFailure(data, new RegExp(`^${missing}: no such file or folder, want fer2013\\.csv\\(\\.gz\\) or a folder with train/ and test/$`));

    const nowhere = join(tempDir('cli-resume'), 'no-run');
    const resume = await fer(['train', '--backend', 'cpu', '--resume', nowhere]);
    expectOneLineFailure(resume, new RegExp(`^${nowhere}: no checkpoint\\.safetensors to resume from$`));
    expect(lines(resume.stderr)).toHaveLength(1);
  });
});

describe('fer train on wasm: a batch too large for WebAssembly memory', () => {
  it('ends in one line naming the memory wanted and the batch, and saves nothing', async () => {
    // The seed network's first activation alone at batch 2048 is 2048·256·46·46 floats, 4.4 GB.
    const out = join(tempDir('cli-oom'), 'run');
    const r = await fer(['train', '--backend', 'wasm', '--model', 'seed', '--synthetic', '2100', '--batch', '2048', '--epochs', '1', '--out', out]);
    expectOneLineFailure(r, /^wasm: out of WebAssembly memory: \d+ MiB more wanted with \d+ MiB in use \(limit 2048 MiB\), training at --batch 2048: use a smaller --batch$/);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(false);
  });
});

describe('fer train --data: a CSV with a bad row', () => {
  const dir = tempDir('cli-csv');
  const csv = join(dir, 'fer2013.csv');
  const row = (label: number, usage: string, n = 2304) =>
    `${label},${Array.from({ length: n }, (_, i) => (i * 37 + label * 11) % 256).join(' ')},${usage}`;
  const rows = ['emotion,pixels,Usage'];
  for (let i = 0; i < 10; i++) rows.push(row(i % 7, 'Training'));
  rows.splice(5, 0, row(3, 'Training', 2300)); // line 6 of the file
  for (let i = 0; i < 4; i++) rows.push(row(i, 'PublicTest'));
  writeFileSync(csv, `${rows.join('\n')}\n`);

  it('stops at it with file:line: reason', async () => {
    const r = await fer(['train', '--backend', 'cpu', '--data', csv, '--epochs', '1', '--batch', '4', '--out', join(dir, 'run1')]);
    expectOneLineFailure(r, new RegExp(`^${csv}:6: wrong pixel count \\(2300 values, want 2304\\)$`));
    expect(existsSync(join(dir, 'run1', 'checkpoint.safetensors'))).toBe(false);
  });

  it('--skip-bad reports it and trains on the rest', async () => {
    const r = await fer(['train', '--backend', 'cpu', '--data', csv, '--skip-bad', '--epochs', '1', '--batch', '4', '--out', join(dir, 'run2')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped 1 bad rows/images: 1× wrong pixel count');
    expect(r.stderr).toContain(`e.g. ${csv}:6: wrong pixel count (2300 values, want 2304)`);
    expect(r.stderr).toMatch(/data: 10 training images/);
    expect(r.stderr).toContain('4 PublicTest images for validation');
    expect(r.stderr).toContain('finished 1 epoch');
  });
});
