// The files a benchmark run writes: DIR/results/<adapter-slug>.json, and DIR/RESULTS.md
// rendered from every JSON file there (each adapter's latest run).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsName } from './environment.ts';
import { FerError } from '../src/backend/errors.ts';
import type { BenchResults, KernelResult, ModelResult, Skip } from './result-types.ts';
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

/**
 * `into` with `part`'s rows in place of those they re-measure (same kernel and shape and
 * backend; same model, mode, batch and implementation), and a note saying what came from where.
 */
export function mergeResults(into: BenchResults, part: BenchResults): BenchResults {
  if (into.batch !== part.batch) throw new FerError(`bench: --merge needs the batch of the existing results (${into.batch}), got ${part.batch}`);
  const kKey = (k: KernelResult) => `${k.kernel}|${k.shape}|${k.backend}`;
  const mKey = (m: ModelResult) => `${m.model}|${m.mode}|${m.batch}|${m.impl}|${m.device}`;
  const kNew = new Set(part.kernels.map(kKey));
  const mNew = new Set(part.models.map(mKey));
  const sKey = (s: Skip) => `${s.what}|${s.impl ?? ''}|${s.device}`;
  const measured = new Set([
    ...part.kernels.map((k) => `${k.kernel} ${k.shape}|ours|${k.backend}`),
    ...part.models.map((m) => `${m.model} ${m.mode}, batch ${m.batch}|${m.impl}|${m.device}`),
    ...part.skipped.map(sKey),
  ]);
  const what = [part.kernels.length ? `${part.kernels.length} kernel rows` : '', part.models.length ? `${part.models.length} model rows` : '']
    .filter(Boolean)
    .join(' and ');
  return {
    ...into,
    peak: [...into.peak.filter((p) => !part.peak.some((q) => q.backend === p.backend)), ...part.peak],
    kernels: [...into.kernels.filter((k) => !kNew.has(kKey(k))), ...part.kernels],
    models: [...into.models.filter((m) => !mNew.has(mKey(m))), ...part.models],
    skipped: [...into.skipped.filter((s) => !measured.has(sKey(s))), ...part.skipped],
    notes: [
      ...into.notes,
      `${what || 'nothing'} merged from a later run: \`${part.command}\` at ${part.date}, commit \`${part.commit}\`, load ${part.machine.loadBefore.toFixed(2)} → ${part.machine.loadAfter.toFixed(2)}`,
    ],
  };
}

/** Writes this run's JSON (or merges it into the existing one) and re-renders RESULTS.md; returns both paths. */
export function writeResults(dir: string, r: BenchResults, merge = false): string[] {
  const resultsDir = join(dir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, `${resultsName(r.adapter?.name ?? null)}.json`);
  const out = merge && existsSync(json) ? mergeResults(JSON.parse(readFileSync(json, 'utf8')) as BenchResults, r) : r;
  writeFileSync(json, `${JSON.stringify(out, null, 2)}\n`);
  return [json, renderResults(dir)];
}
