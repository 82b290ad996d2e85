import { stat } from 'node:fs/promises';
import { FerError } from '../backend/errors.ts';
import { loadFer2013Csv, type LoadOptions, type LoadResult } from './fer2013-csv.ts';
import { loadImageFolder } from './image-folder.ts';

export type { LoadOptions, LoadResult } from './fer2013-csv.ts';

/**
 * FER2013 from wherever the user has it: a folder is read as train/ and test/ class folders, a
 * file as the CSV (plain or gzip, whatever its name). Either way the same splits come back.
 */
export async function loadData(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const st = await stat(path).catch(() => null);
  if (st === null) throw new FerError(`${path}: no such file or folder, want fer2013.csv(.gz) or a folder with train/ and test/`);
  return st.isDirectory() ? loadImageFolder(path, opts) : loadFer2013Csv(path, opts);
}
