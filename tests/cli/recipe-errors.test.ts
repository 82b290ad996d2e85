import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { Random } from '../../src/backend/random.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { modelToBytes } from '../../src/nn/model-file.ts';
import { tempDir, tinyNet } from '../train/tiny-run.ts';
import { expectOneLineFailure, fer, lines } from './fer-process.ts';

// The recipe's flags (--recipe, --crop, --erase, --schedule, --warmup, --tta) refuse bad values
// with one line on stderr, before any backend is opened or data read.

describe('fer train: the recipe flags, one line for a bad value', () => {
  it('--recipe, --tta, --crop, --erase, --schedule, and the combinations that cannot work', async () => {
    const cases: [string[], RegExp][] = [
      [['--recipe', 'resnet'], /^--recipe must be vgg, got "resnet"$/],
      [['--tta', 'five-crop'], /^--tta must be none, flip or ten-crop, got "five-crop"$/],
      [['--crop', 'big'], /^--crop must be an integer >= 8, got "big"$/],
      [['--crop', '4'], /^--crop must be an integer >= 8, got "4"$/],
      [['--crop', '41'], /^--crop: side is 41, want an even integer from 8 to 48$/],
      [['--crop', '50'], /^--crop: side is 50, want an even integer from 8 to 48$/],
      [['--augment', '--erase', '1.5'], /^--erase must be a number in \[0, 1\], got "1.5"$/],
      [['--erase', '0.5'], /^--scale and --erase need --augment \(or --recipe\)$/],
      [['--schedule', 'linear'], /^--schedule must be plateau or cosine, got "linear"$/],
      [['--warmup', '2'], /^--warmup needs --schedule cosine$/],
      [['--recipe', 'vgg', '--plateau-patience', '2'], /^--plateau-patience cannot be combined with --schedule cosine/],
      [['--tta', 'ten-crop', '--crop', '48'], /^--tta ten-crop needs --crop below 48 \(a model of whole faces has no crops to average\)$/],
      [['--recipe', 'vgg', '--crop', '48'], /^--tta ten-crop needs --crop below 48/],
    ];
    const out = tempDir('cli-recipe');
    // In this process, each refusal comes before a line is printed (the backend's, say).
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      for (const [i, [args, message]] of cases.entries()) {
        const err = await trainCommand(['--backend', 'cpu', ...args, '--out', join(out, `run${i}`)]).then(() => null, (e: unknown) => e);
        expect(err, args.join(' ')).toBeInstanceOf(FerError);
        expect((err as FerError).message, args.join(' ')).toMatch(message);
        expect(said, args.join(' ')).not.toHaveBeenCalled();
      }
    } finally {
      said.mockRestore();
    }
    // And through the real command, one of each flag: exit 1 and the one line on stderr.
    const picked = [0, 1, 4, 6, 8].map((i) => cases[i]);
    const results = await Promise.all(picked.map(([args], i) => fer(['train', '--backend', 'cpu', ...args, '--out', join(out, `cli${i}`)])));
    results.forEach((r, i) => {
      expectOneLineFailure(r, picked[i][1]);
      expect(lines(r.stderr), `${picked[i][0].join(' ')}: ${r.stderr}`).toHaveLength(1);
    });
  }, 0); // no wall-clock limit: a loaded machine starts node processes slowly
});

describe('fer eval --tta', () => {
  const dir = tempDir('cli-tta');
  const csv = join(dir, 'fer2013.csv');
  const rows = ['emotion,pixels,Usage'];
  for (let i = 0; i < 4; i++) rows.push(`${i},${Array.from({ length: 2304 }, (_, j) => (j * 37 + i * 11) % 256).join(' ')},PublicTest`);
  writeFileSync(csv, `${rows.join('\n')}\n`);

  it('a bad mode is one line; ten-crop on a model of whole 48×48 faces is refused in one line before the data is read', async () => {
    const file = join(dir, 'whole-faces.safetensors');
    writeFileSync(file, await modelToBytes(tinyNet().build(new Random(1), 'cpu'), {}));
    const [bad, ten] = await Promise.all([
      fer(['eval', '--backend', 'cpu', '--model', file, '--data', csv, '--tta', 'five-crop', '--out', join(dir, 'a')]),
      fer(['eval', '--backend', 'cpu', '--model', file, '--data', csv, '--tta', 'ten-crop', '--out', join(dir, 'b')]),
    ]);
    expectOneLineFailure(bad, /^--tta must be none, flip or ten-crop, got "five-crop"$/);
    expect(lines(bad.stderr)).toHaveLength(1);
    expectOneLineFailure(ten, /^ten-crop averaging needs a model that reads crops smaller than its 48×48 images \(this one reads them whole\): use flip or none$/);
    expect(ten.stderr).not.toContain('loading');
  }, 0);
});
