import { FerError } from '../backend/errors.ts';

/** What a loader left out with skipBad: how many, how many for each reason, and the first few in full. */
export interface Skipped {
  count: number;
  reasons: Record<string, number>;
  /** "<file>:<line>: <reason> (<detail>)" for the first few, for the caller to print. */
  examples: string[];
}

const MAX_EXAMPLES = 5;

/** The lines every command prints for what --skip-bad left out: the tally, then the first few in full. */
export function describeSkipped(s: Skipped, what = 'rows/images'): string[] {
  if (s.count === 0) return [];
  const reasons = Object.entries(s.reasons).map(([r, n]) => `${n}× ${r}`).join('; ');
  return [`skipped ${s.count} bad ${what}: ${reasons}`, ...s.examples.map((e) => `  e.g. ${e}`)];
}

/**
 * The one place a loader reports a bad row or image: without skipBad it throws the one-line
 * message, with skipBad it tallies it. Either way nothing is dropped unseen.
 */
export class SkipLog {
  readonly skipped: Skipped = { count: 0, reasons: {}, examples: [] };

  constructor(readonly skipBad: boolean) {}

  /** `where` is "<file>:<line>" or a file path; `reason` is the short key the tally groups by. */
  bad(where: string, reason: string, detail = ''): void {
    const message = `${where}: ${reason}${detail ? ` (${detail})` : ''}`;
    if (!this.skipBad) throw new FerError(message);
    const s = this.skipped;
    s.count++;
    s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
    if (s.examples.length < MAX_EXAMPLES) s.examples.push(message);
  }
}
