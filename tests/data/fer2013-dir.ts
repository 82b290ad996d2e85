import { existsSync } from 'node:fs';

/**
 * The real FER2013 files (../shared/fer2013: sample.csv, fer2013.csv.gz, images/), found through
 * FER2013_DIR. Null where it is unset or missing: the tests that need it skip, and say so.
 */
function find(): string | null {
  const dir = process.env.FER2013_DIR;
  if (dir && existsSync(dir)) return dir;
  console.warn(`\n[skip] FER2013 data tests skipped: ${dir ? `FER2013_DIR=${dir} does not exist` : 'FER2013_DIR is not set'} (set FER2013_DIR=../shared/fer2013)\n`);
  return null;
}

export const ferDir = find();
