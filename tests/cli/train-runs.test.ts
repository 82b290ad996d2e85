import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/nn/safetensors.ts';
import type { RunState } from '../../src/train/run-state.ts';
import { tempDir } from '../train/tiny-run.ts';
import { expectOneLineFailure, fer, lines } from './fer-process.ts';

describe('fer train: runs, Ctrl-C, resume, divergence', () => {
  // One short run to reuse: the synthetic set at its smallest (14 faces, 70 for validation).
  const dir = join(tempDir('cli-run'), 'run');
  const firstRun = fer(['train', '--backend', 'cpu', '--synthetic', '14', '--batch', '4', '--epochs', '1', '--out', dir]);

  it('a run writes its folder and report; the same folder again without --resume is refused', async () => {
    const r = await firstRun;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('finished 1 epoch');
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'best.safetensors', 'log.json', 'report.txt', 'curves.png']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const again = await fer(['train', '--backend', 'cpu', '--synthetic', '14', '--out', dir]);
    expectOneLineFailure(again, new RegExp(`^${dir} already holds a run: continue it with --resume ${dir}, or choose another --out$`));
    expect(lines(again.stderr)).toHaveLength(1);
    const done = await fer(['train', '--backend', 'cpu', '--resume', dir]);
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/already finished \(finished 1 epoch\); add --epochs N \(more than 1\) to continue/);
  });

  it('Ctrl-C after the first progress line saves a checkpoint and says how to resume; --resume finishes the run', async () => {
    const out = join(tempDir('cli-sigint'), 'run');
    let sent = false;
    const r = await fer(['train', '--backend', 'cpu', '--synthetic', '60', '--batch', '2', '--epochs', '1', '--out', out], (err, child) => {
      if (!sent && /epoch 1\/1 \[/.test(err)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('Ctrl-C: saving a checkpoint after this step');
    const saved = r.stderr.match(/interrupted: checkpoint saved at epoch 1, batch (\d+)\/30/);
    expect(saved, r.stderr).not.toBeNull();
    expect(r.stderr).toContain(`resume with: fer train --resume ${out}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'report.txt'))).toBe(false);

    const resumed = await fer(['train', '--backend', 'cpu', '--resume', out]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${out} at epoch 1, batch ${saved![1]}`);
    expect(resumed.stderr).toContain('finished 1 epoch');
    expect(JSON.parse(readFileSync(join(out, 'log.json'), 'utf8'))).toHaveLength(1);
    expect(existsSync(join(out, 'report.txt'))).toBe(true);
  });

  it('an absurd learning rate: one line, exit 1, nothing saved', async () => {
    const out = join(tempDir('cli-nan'), 'run');
    const r = await fer(['train', '--backend', 'cpu', '--synthetic', '14', '--batch', '2', '--lr', '1e30', '--out', out]);
    expectOneLineFailure(r, new RegExp(`^loss became NaN at epoch 1, batch \\d+: stopped \\(try a lower --lr\\); no checkpoint was written yet in ${out}$`));
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(false);
  });

  it('diverging after a checkpoint (a poisoned learning rate in the run state): the last good files stay byte for byte', async () => {
    const out = join(tempDir('cli-nan-resume'), 'run');
    const r0 = await fer(['train', '--backend', 'cpu', '--synthetic', '14', '--batch', '4', '--epochs', '1', '--out', out]);
    expect(r0.code, r0.stderr).toBe(0);
    const file = join(out, 'checkpoint.safetensors');
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(file)), file);
    const state = JSON.parse(metadata.run_state) as RunState;
    state.schedule.lr = 1e30;
    writeFileSync(file, encodeSafetensors(tensors, { ...metadata, run_state: JSON.stringify(state) }));
    const files = ['checkpoint.safetensors', 'model.safetensors', 'best.safetensors', 'log.json'];
    const before = files.map((f) => readFileSync(join(out, f)));

    const r = await fer(['train', '--backend', 'cpu', '--resume', out, '--epochs', '2']);
    expectOneLineFailure(r, new RegExp(`^loss became NaN at epoch 2, batch \\d+: stopped \\(try a lower --lr\\); the checkpoint from the end of epoch 1 is kept in ${out}$`));
    files.forEach((f, i) => expect(readFileSync(join(out, f)).equals(before[i]), f).toBe(true));
  });
});
