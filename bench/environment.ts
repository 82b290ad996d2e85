// What a benchmark run ran on: commit, Node, CPU, and the file name its results go to.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function cpuModel(): string {
  return cpus()[0]?.model.trim() || 'unknown CPU';
}

/** Lower-case words joined by '-', for a file name. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/\(r\)|\(tm\)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'unknown';
}

/** bench/results/<this>.json: the WebGPU adapter's name, or `cpu-<cpu model>` for a CPU-only run. */
export function resultsName(adapter: string | null): string {
  return adapter === null ? `cpu-${slug(cpuModel())}` : slug(adapter);
}
