import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/backend/random.ts';
import { SUMMARY } from '../../src/cli/summary.ts';
import { createModel, MODEL_NAMES } from '../../src/nn/models.ts';
import { fer, ROOT } from './fer-process.ts';

/** The cells of the README model table's row for `name`. */
function readmeRow(name: string): string[] {
  const row = readFileSync(join(ROOT, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`| \`${name}\` |`));
  expect(row, `README's model table has a row for ${name}`).toBeDefined();
  return row!.split('|').slice(1, -1).map((c) => c.trim());
}

describe('fer summary --model', () => {
  it('vgg: the layers, 663,535 parameters (1,440 non-trainable), 46,114,944 multiply-adds per 40×40 crop', async () => {
    const r = await fer(['summary', '--model', 'vgg']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Model: "vgg"   input (None, 1, 40, 40)');
    expect(r.stdout).toContain('global_average_pooling2d (GlobalAvgPool2D)');
    expect(r.stdout).toMatch(/^Total params: 663,535$/m);
    expect(r.stdout).toMatch(/^Non-trainable params: 1,440$/m);
    expect(r.stdout).toMatch(/^Multiply-adds per image: 46,114,944 /m);
    // eight convolutions, each followed by batch norm then relu
    expect(r.stdout.match(/\(Conv2D\)/g)).toHaveLength(8);
    expect(r.stdout.match(/\(ReLU\)/g)).toHaveLength(8);
  });

  it('the usage lists every model name', () => {
    expect(SUMMARY.usage).toBe(`fer summary [--model ${MODEL_NAMES.join('|')}|FILE|RUN]`);
  });

  it("the README's model table states each model's parameters and multiply-adds as the summary counts them", () => {
    for (const name of MODEL_NAMES) {
      const s = createModel(name).build(new Random(0), 'cpu').summary();
      const [, , params, macs] = readmeRow(name);
      expect(params.split(' ')[0], name).toBe(s.total.toLocaleString('en-US'));
      if (s.nonTrainable > 0) expect(params, name).toContain(`(${s.nonTrainable.toLocaleString('en-US')} non-trainable)`);
      // three significant figures, in M or G
      const m = /^([\d.]+) ([MG])$/.exec(macs);
      expect(m, `${name}: "${macs}"`).not.toBeNull();
      const unit = m![2] === 'G' ? 1e9 : 1e6;
      expect(m![1], name).toBe((s.macs / unit).toPrecision(3));
    }
  });
});
