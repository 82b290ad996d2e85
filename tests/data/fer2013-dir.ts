import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requirement } from '../support/requires.ts';

/**
 * The real FER2013 files (sample.csv, fer2013.csv.gz, images/), found through FER2013_DIR, or
 * where .ci/run and the README put them (../shared/fer2013 beside the checkout) when it is
 * unset. Null where neither exists: the tests that need it skip and say so, or fail under CI.
 */
const BESIDE = fileURLToPath(new URL('../../../shared/fer2013', import.meta.url));

function find(): string | null {
  const dir = process.env.FER2013_DIR ?? (existsSync(BESIDE) ? BESIDE : undefined);
  const what = dir ? `the FER2013 files at FER2013_DIR=${dir}` : 'the FER2013 files (FER2013_DIR is not set)';
  return requirement(what, !!dir && existsSync(dir), 'set FER2013_DIR=../shared/fer2013; see data/README.md') ? dir! : null;
}

export const ferDir = find();
