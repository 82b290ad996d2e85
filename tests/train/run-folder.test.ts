import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FerError } from '../../src/backend/errors.ts';
import { modelFromBytes } from '../../src/nn/model-file.ts';
import { RunFolder } from '../../src/train/run-folder.ts';
import { go, startRun, tempDir, tensorBytes, tinySettings } from './tiny-run.ts';

describe('run folder', () => {
  const dir = tempDir('folder');
  const session = (async () => {
    const s = startRun(dir, tinySettings({ epochs: 1 }));
    await go(s);
    return s;
  })();

  it('checkpoint: weights, optimizer state and run state restore exactly', async () => {
    const s = await session;
    const back = new RunFolder(dir).loadCheckpoint('cpu');
    expect(back.state).toEqual(JSON.parse(JSON.stringify(s.state)));
    expect(back.optimizer.step).toBe(s.optimizer.step);
    expect(back.optimizer.config).toEqual(s.optimizer.config);
    expect([...back.optimizer.state.keys()]).toEqual([...s.optimizer.state.keys()]);
    for (const [k, t] of s.optimizer.state) expect(await back.optimizer.state.get(k)!.read()).toEqual(await t.read());
    for (const p of s.model.params()) {
      const q = back.model.params().find((r) => r.name === p.name)!;
      expect(new Uint8Array((await q.value.read()).buffer)).toEqual(new Uint8Array((await p.value.read()).buffer));
    }
    // Adam's two moments for each of the 6 trainable tensors.
    expect(tensorBytes(join(dir, 'checkpoint.safetensors')).size).toBe(s.model.params().length + 12);
  });

  it('model.safetensors is a model file with how it was trained', async () => {
    const s = await session;
    const { model, metadata } = modelFromBytes(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))), 'model.safetensors', 'cpu');
    expect(model.spec()).toEqual(s.model.spec());
    expect(metadata).toMatchObject({ trained_with: 'fer-webgpu', epochs: '1', optimizer: 'adam lr 0.003', batch_size: '4', augment: 'true', seed: '7' });
    expect(Number(metadata.val_accuracy)).toBe(s.state.log[0].valAccuracy);
    expect(JSON.parse(readFileSync(join(dir, 'log.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(s.state.log)));
  });

  it('refuses with one line: no checkpoint, or a model file where a checkpoint should be', async () => {
    await session;
    const none = tempDir('folder-none');
    expect(() => new RunFolder(none).loadCheckpoint('cpu')).toThrow(new FerError(`${none}: no checkpoint.safetensors to resume from`));
    const other = tempDir('folder-model');
    copyFileSync(join(dir, 'model.safetensors'), join(other, 'checkpoint.safetensors'));
    expect(() => new RunFolder(other).loadCheckpoint('cpu')).toThrow(
      new FerError(`${join(other, 'checkpoint.safetensors')}: the run_state metadata is missing or not JSON`),
    );
  });
});
