// Re-renders RESULTS.md from the JSON files a benchmark run wrote, without measuring anything
// (after a change to the tables or the Targets section).
//   node --import ./src/cli/register.mjs bench/render.ts [DIR]   (default bench: bench/results/*.json → bench/RESULTS.md)
import { fileURLToPath } from 'node:url';
import { renderResults } from './results-files.ts';

console.error(`wrote ${renderResults(process.argv[2] ?? fileURLToPath(new URL('.', import.meta.url)))}`);
