import { writeFileAtomic } from './atomic-write.ts';
import { formatMetrics, type Metrics } from './metrics.ts';
import type { RunFolder } from './run-folder.ts';
import type { EpochRecord } from './run-state.ts';

/**
 * Writes an evaluation into a run folder: the text report, the metrics as JSON, and (when
 * given) the epoch log as curves. Returns the files written.
 */
export function writeEvaluation(run: RunFolder, name: string, heading: string, m: Metrics, _log: EpochRecord[] | null): string[] {
  const files: string[] = [];
  const txt = run.path(`${name}.txt`);
  writeFileAtomic(txt, `${heading}\n\n${formatMetrics(m)}\n`);
  files.push(txt);
  const json = run.path(`${name}.json`);
  writeFileAtomic(json, `${JSON.stringify(m, null, 2)}\n`);
  files.push(json);
  return files;
}
