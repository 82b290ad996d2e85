import * as fs from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from '../../src/train/atomic-write.ts';
import { RunFolder } from '../../src/train/run-folder.ts';
import { go, startRun, tempDir, tinySettings } from './tiny-run.ts';

// The crash is simulated by making the file system calls fail: running as root, a read-only
// folder would not stop the writes.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, renameSync: vi.fn(real.renameSync), writeSync: vi.fn(real.writeSync) };
});

const crash = (what: string) => Object.assign(new Error(`EIO: i/o error, ${what} (simulated)`), { code: 'EIO' });

const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

beforeEach(() => {
  vi.mocked(fs.renameSync).mockClear();
  vi.mocked(fs.writeSync).mockClear();
});

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an old one, leaving no temporary file', () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'x.json');
    writeFileAtomic(file, 'first');
    expect(fs.readFileSync(file, 'utf8')).toBe('first');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a crash in the middle of writing leaves the old file whole and no temporary file', () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'model.safetensors');
    fs.writeFileSync(file, 'old contents');
    const big = new Uint8Array(1 << 20).fill(7);
    const realWrite = vi.mocked(fs.writeSync).getMockImplementation() as unknown as (fd: number, b: Uint8Array, off: number, len: number) => number;
    // The first write lands 1000 bytes, the next one fails: a torn file if it were written in place.
    vi.mocked(fs.writeSync)
      .mockImplementationOnce(((fd: number, b: Uint8Array, off: number) => realWrite(fd, b, off, 1000)) as typeof fs.writeSync)
      .mockImplementationOnce(() => {
        throw crash('write');
      });
    expect(() => writeFileAtomic(file, big)).toThrow(/EIO: i\/o error, write \(simulated\)/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old contents');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a failed rename leaves the old file whole and cleans up the temporary file', () => {
    const dir = tempDir('atomic');
    const file = join(dir, 'log.json');
    fs.writeFileSync(file, 'old log');
    vi.mocked(fs.renameSync).mockImplementationOnce(() => {
      throw crash('rename');
    });
    expect(() => writeFileAtomic(file, 'new log')).toThrow(/rename \(simulated\)/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old log');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a folder that does not exist: an error, nothing created', () => {
    const dir = tempDir('atomic');
    expect(() => writeFileAtomic(join(dir, 'missing', 'x'), 'data')).toThrow(/ENOENT/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('a checkpoint that fails to save', () => {
  it('leaves the previous checkpoint loadable and byte for byte the same', async () => {
    const dir = tempDir('ckpt-crash');
    const s = startRun(dir, tinySettings({ epochs: 1 }));
    await go(s);
    const file = join(dir, 'checkpoint.safetensors');
    const before = fs.readFileSync(file);
    s.state.step += 1; // anything, so that the new checkpoint would differ
    vi.mocked(fs.renameSync).mockImplementationOnce(() => {
      throw crash('rename');
    });
    await expect(s.run.saveCheckpoint(s.model, s.optimizer, s.state)).rejects.toThrow(/simulated/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(new RunFolder(dir).loadCheckpoint('cpu').state.step).toBe(s.state.step - 1);
    expect(leftovers(dir)).toEqual([]);
  });
});
