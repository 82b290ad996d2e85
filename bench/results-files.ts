// The files a benchmark run writes: DIR/results/<adapter-slug>.json, and DIR/RESULTS.md
// rendered from every JSON file there (each adapter's latest run).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsName } from './environment.ts';
import type { BenchResults } from './result-types.ts';
import { resultsMarkdown } from './results-md.ts';

/** Rewrites DIR/RESULTS.md from DIR/results/*.json; returns its path. */
export function renderResults(dir: string): string {
  const resultsDir = join(dir, 'results');
  const runs = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as BenchResults)
    .filter((x) => x.schema === 1);
  const md = join(dir, 'RESULTS.md');
  writeFileSync(md, resultsMarkdown(runs));
  return md;
}

/** Writes this run's JSON and re-renders RESULTS.md; returns both paths. */
export function writeResults(dir: string, r: BenchResults): string[] {
  const resultsDir = join(dir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, `${resultsName(r.adapter?.name ?? null)}.json`);
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  return [json, renderResults(dir)];
}
