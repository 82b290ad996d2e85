// `npm run bench -- --quick` end to end in a child process: the JSON it writes has every
// section, with finite positive figures, and bench/RESULTS.md is left alone.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/result-types.ts';
import { ROOT, type Finished } from '../cli/fer-process.ts';

function bench(args: string[]): Promise<Finished> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.FER_DEBUG;
  const child = spawn(process.execPath, ['--import', './src/cli/register.mjs', 'bench/run.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

const out = mkdtempSync(join(tmpdir(), 'fer-bench-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  // About a minute on the shared 2-core machine with SwiftShader; the whole-model rows dominate.
  it('writes a results JSON with peak, kernels and models, and RESULTS.md into --out only', { timeout: 600_000 }, async () => {
    const committed = join(ROOT, 'bench', 'RESULTS.md');
    const before = existsSync(committed) ? statSync(committed).mtimeMs : null;
    const r = await bench(['--quick', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(committed) ? statSync(committed).mtimeMs : null).toBe(before);

    const files = readdirSync(join(out, 'results')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const res = JSON.parse(readFileSync(join(out, 'results', files[0]), 'utf8')) as BenchResults;
    expect(res.schema).toBe(1);
    expect(res.quick).toBe(true);
    expect(res.batch).toBe(1);
    expect(res.commit).toMatch(/^[0-9a-f]{4,}$|^unknown$/);
    expect(positive(res.machine.loadBefore) || res.machine.loadBefore === 0).toBe(true);
    expect(res.sections).toEqual(['peak', 'kernels', 'models', 'peers']);

    // Peak: one per backend measured, both rates.
    const backends = res.adapter ? ['cpu', 'webgpu'] : ['cpu'];
    expect(res.peak.map((p) => p.backend)).toEqual(backends);
    for (const p of res.peak) expect([p.gflops, p.gbs, p.fmaMs, p.copyMs].every(positive), JSON.stringify(p)).toBe(true);

    // Kernels: the quick handful on every backend, each with a time, a rate and a peak fraction.
    for (const b of backends) expect(res.kernels.filter((k) => k.backend === b).length).toBeGreaterThanOrEqual(5);
    for (const k of res.kernels) {
      expect([k.ms, k.flops, k.bytes, k.gflops, k.gbs, k.peakFraction].every(positive), JSON.stringify(k)).toBe(true);
      expect(k.samples.length).toBeGreaterThanOrEqual(3);
      expect(k.batch).toBe(1);
    }
    expect(new Set(res.kernels.map((k) => k.kernel.split('.')[0]))).toEqual(new Set(['conv2d', 'maxpool2d', 'batchnorm', 'matmul']));

    // Models: ours on every backend, latency and training, with finite positive rates.
    for (const b of backends) {
      for (const mode of ['latency', 'train']) {
        const m = res.models.find((x) => x.impl === 'ours' && x.device === b && x.model === 'small' && x.mode === mode);
        expect(m, `ours ${b} ${mode}`).toBeDefined();
        expect([m!.ms, m!.imagesPerSecond, m!.gflops].every(positive)).toBe(true);
      }
    }
    // Peers: each loaded one has a latency row, or (a peer too slow on this machine at this load:
    // tfjs-webgpu's warm-up on SwiftShader crosses the quick cap when the machine is busy) a
    // skipped entry saying why. Never missing; tfjs-wasm training is listed as a gap, not hidden.
    for (const p of res.peers.filter((x) => x.loaded)) {
      const m = res.models.find((x) => x.impl === 'tfjs' && x.device === p.device && x.mode === 'latency');
      const skip = res.skipped.find((s) => s.impl === 'tfjs' && s.device === p.device && s.what.includes('latency'));
      expect(m ?? skip, `tfjs ${p.device}: neither a row nor a skip`).toBeDefined();
      if (m) expect([m.ms, m.imagesPerSecond].every(positive)).toBe(true);
      else expect(skip!.reason).toMatch(/^not timed: the warm-up call took \d+\.\d s > --model-max-seconds \d/);
    }
    for (const s of res.skipped) expect(s.reason, JSON.stringify(s)).toBeTruthy();
    for (const p of res.peers.filter((x) => !x.loaded)) expect(p.note).toBeTruthy();
    if (res.peers.some((p) => p.device === 'wasm' && p.loaded)) {
      expect(res.skipped.some((s) => s.device === 'wasm' && s.what.includes('train'))).toBe(true);
    }

    const md = readFileSync(join(out, 'RESULTS.md'), 'utf8');
    expect(md).toContain(`\`${res.commit}\``);
    expect(md).toContain('### Targets');
    expect(r.stdout).toContain('### Whole models');
  });

  it.each([
    [['--only', 'everything', '--no-write'], /^bench: --only must name peak, kernels, models, peers, got "everything"$/],
    [['--bogus'], /^bench: unknown option --bogus; npm run bench -- --help lists the options$/],
    [['--budget', '-1'], /^bench: --budget must be a number > 0, got "-1"$/],
    [['--batch', '0'], /^bench: --batch must be a positive integer, got "0"$/],
  ])('rejects %j with one line', async (args, message) => {
    const r = await bench(args);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('XDG_RUNTIME_DIR'));
    expect(lines.at(-1)).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
