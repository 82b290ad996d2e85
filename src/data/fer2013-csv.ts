import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FerError } from '../backend/errors.ts';
import { DatasetBuilder } from './dataset-builder.ts';
import { USAGES, type Dataset, type Usage } from './dataset.ts';
import { Fer2013CsvParser } from './fer2013-csv-parser.ts';
import { SkipLog, type Skipped } from './skipped.ts';

export interface LoadOptions {
  /** Keep only these splits (default: all three). */
  splits?: Usage[];
  /** At most this many images per split, the first ones in the file; reading stops once every kept split is full. */
  limit?: number;
  /** Skip bad rows and count them in `skipped`, instead of throwing at the first one. */
  skipBad?: boolean;
  /** fraction of the file read (0–1), images kept so far. */
  onProgress?: (fraction: number, rowsSoFar: number) => void;
}

/** The splits that have at least one image, and what was skipped. */
export interface LoadResult {
  splits: Partial<Record<Usage, Dataset>>;
  skipped: Skipped;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const READ_CHUNK = 1 << 20;
const GUNZIP_CHUNK = 1 << 18;

/**
 * Loads FER2013's CSV (header emotion,pixels,Usage, in any column order), plain or gzip (told
 * apart by its first two bytes, not its name). The file is streamed and parsed as bytes, so the
 * full 266 MB takes seconds and about twice the images' size in memory.
 */
export async function loadFer2013Csv(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const keep = checkLoadOptions('loadFer2013Csv', opts);
  const limit = opts.limit ?? Infinity;
  const size = await fileSize(path);
  const gzip = await startsWith(path, GZIP_MAGIC);

  const builders = USAGES.map(() => new DatasetBuilder());
  const log = new SkipLog(opts.skipBad ?? false);
  let kept = 0;
  const full = (): boolean => USAGES.every((u, i) => !keep.has(u) || builders[i].count >= limit);
  const parser = new Fer2013CsvParser(path, {
    row(usage, label, pixels) {
      const b = builders[usage];
      if (!keep.has(USAGES[usage]) || b.count >= limit) return;
      b.add(pixels, label);
      kept++;
    },
    bad(line, reason, detail) {
      log.bad(`${path}:${line}`, reason, detail);
    },
  });

  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  const source: Readable = gzip ? pipeline(raw, createGunzip({ chunkSize: GUNZIP_CHUNK }), () => {}) : raw;
  let reported = -1;
  try {
    for await (const chunk of source) {
      parser.push(chunk as Buffer);
      const f = size > 0 ? raw.bytesRead / size : 1;
      if (opts.onProgress && f - reported >= 0.01) {
        reported = f;
        opts.onProgress(Math.min(f, 1), kept);
      }
      if (full()) break;
    }
    if (!full()) parser.end();
  } catch (e) {
    if (e instanceof FerError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gzip && typeof err.code === 'string' && err.code.startsWith('Z_')) throw new FerError(`${path}: corrupt gzip data (${err.message})`);
    throw new FerError(`${path}: cannot read (${err.message})`);
  } finally {
    raw.destroy();
    if (source !== raw) source.destroy();
  }
  opts.onProgress?.(1, kept);

  const splits: Partial<Record<Usage, Dataset>> = {};
  USAGES.forEach((u, i) => {
    if (builders[i].count > 0) splits[u] = builders[i].finish();
  });
  return { splits, skipped: log.skipped };
}

/** The splits to keep; one-line errors for options that make no sense. */
export function checkLoadOptions(op: string, opts: LoadOptions): Set<Usage> {
  const { limit, splits } = opts;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new FerError(`${op}: limit is ${limit}, want a positive integer (images per split)`);
  if (splits !== undefined) {
    if (splits.length === 0) throw new FerError(`${op}: splits is empty, want some of ${USAGES.join(', ')}`);
    for (const s of splits) {
      if (!(USAGES as readonly string[]).includes(s)) throw new FerError(`${op}: split ${JSON.stringify(s)} is unknown, want ${USAGES.join(', ')}`);
    }
  }
  return new Set(splits ?? USAGES);
}

async function fileSize(path: string): Promise<number> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new FerError(`${path}: no such file`);
    throw new FerError(`${path}: cannot read (${err.message})`);
  }
  if (st.isDirectory()) throw new FerError(`${path}: is a directory, want a FER2013 CSV file (loadData reads image folders)`);
  return st.size;
}

async function startsWith(path: string, magic: number[]): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(magic.length);
    const { bytesRead } = await fh.read(head, 0, magic.length, 0);
    return bytesRead === magic.length && magic.every((b, i) => head[i] === b);
  } finally {
    await fh.close();
  }
}
