import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `fer` command (node src/cli/fer.mjs) in a child process. `onStderr` sees the
 * error stream as it grows and may signal the child (Ctrl-C is SIGINT).
 */
export function fer(
  args: string[],
  onStderr?: (soFar: string, child: ReturnType<typeof spawn>) => void,
  /** Changes to the environment; undefined removes a variable. */
  extraEnv: Record<string, string | undefined> = {},
): Promise<Finished> {
  const env = { ...process.env, ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete env[k];
  delete env.FER_DEBUG;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['src/cli/fer.mjs', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, child);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** stderr without the lines every run prints that are not about the outcome (a missing XDG_RUNTIME_DIR, say). */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.includes('XDG_RUNTIME_DIR'));
}

/** Exit code 1 and, last on stderr, `fer: <message>` with no stack trace. */
export function expectOneLineFailure(r: Finished, message: RegExp): void {
  const out = lines(r.stderr);
  expect(r.code, r.stderr).toBe(1);
  expect(out.at(-1)).toMatch(/^fer: /);
  expect(out.at(-1)!.slice(5)).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}
