import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * What some tests need from the machine. Outside CI a missing piece skips those tests with a
 * [skip] line; with CI set it is an error naming the piece, so a green CI run means every
 * claim was checked.
 */
export const CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** True when present; otherwise a [skip] line and false, or under CI an error saying what to install. */
export function requirement(what: string, present: boolean, fix: string): boolean {
  if (present) return true;
  if (CI) throw new Error(`CI is set and ${what} is missing (${fix})`);
  console.warn(`\n[skip] ${what} is missing (${fix}): the tests that need it are skipped\n`);
  return false;
}

/** The long comparisons (seed model on SwiftShader, minutes): FER_SLOW_TESTS=1, on by default under CI. */
export const SLOW = process.env.FER_SLOW_TESTS === '1' || (CI && process.env.FER_SLOW_TESTS !== '0');

/**
 * The Python the interoperability tests run: FER_PYTHON, else Debian's /usr/bin/python3 (the
 * one apt's python3-numpy installs into; a python3 earlier on PATH may be another interpreter).
 */
export const PYTHON = process.env.FER_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function pythonImports(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let numpy: boolean | undefined;
/** Python with NumPy, required by the interoperability tests (tests/support/read_safetensors.py). */
export function needPythonNumpy(): boolean {
  numpy ??= requirement(`${PYTHON} with NumPy`, pythonImports('numpy'), 'apt-get install python3-numpy, or set FER_PYTHON');
  return numpy;
}

export interface PythonRead {
  /** 'numpy' always; 'safetensors' too where that package is installed (and agreed bit for bit). */
  readers: string[];
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
}

/** A safetensors file as Python reads it (tests/support/read_safetensors.py). */
export function readInPython(file: string): PythonRead {
  const script = new URL('./read_safetensors.py', import.meta.url).pathname;
  // stderr into the error, so a failure shows Python's message.
  return JSON.parse(execFileSync(PYTHON, [script, file], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }));
}
