// Loads a FER2013 CSV (plain or gzip) and prints what came out and how long it took.
//   node --import ./src/cli/register.mjs bench/load-csv.ts [path] [--skip-bad]
// Peak memory: /usr/bin/time -v node --import ./src/cli/register.mjs bench/load-csv.ts <path>
import { classCounts } from '../src/data/dataset.ts';
import { EMOTIONS } from '../src/data/emotions.ts';
import { loadFer2013Csv } from '../src/data/fer2013-csv.ts';

const path = process.argv[2] ?? `${process.env.FER2013_DIR ?? '../shared/fer2013'}/fer2013.csv.gz`;
const t0 = performance.now();
const { splits, skipped } = await loadFer2013Csv(path, { skipBad: process.argv.includes('--skip-bad') });
const seconds = (performance.now() - t0) / 1000;

console.log(`${path}: ${seconds.toFixed(2)} s`);
for (const [usage, ds] of Object.entries(splits)) {
  const counts = classCounts(ds);
  console.log(`  ${usage.padEnd(11)} ${String(ds.count).padStart(6)}  ${EMOTIONS.map((e, k) => `${e} ${counts[k]}`).join(', ')}`);
}
console.log(`  skipped ${skipped.count}${skipped.count ? `: ${JSON.stringify(skipped.reasons)}` : ''}`);
console.log(`  heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, array buffers ${(process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
