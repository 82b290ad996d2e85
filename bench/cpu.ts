// `npm run bench:cpu`: the CPU engines side by side in one run, each named with its thread
// count: our WebAssembly backend (wasm, 1 and 2 threads), our TypeScript specification (cpu),
// TensorFlow.js's wasm backend (XNNPACK) and PyTorch on the CPU (Debian's python3-torch, run by
// bench/pytorch_seed.py). Rows: the WebAssembly SIMD multiply-add peak, GEMMs at 512³, 1024³
// and the seed model's heaviest convolution as a product (M 256, N 2116, K 2304), seed
// inference at batch 1 and 8, training steps of small and seed at batch 64 and 8 and of vgg at
// 64. Each figure is a median of timed calls after a warm-up; wall time and, for ours, CPU time
// (process-wide, worker threads included), so "GFLOP per CPU-second" is measured, not derived.
// Candidates of a workload are timed in alternation (rounds of one call each), so a drifting
// load affects them alike; PyTorch, another process, runs after them.
// Writes bench/results/cpu.json and bench/CPU.md (--out DIR elsewhere, --no-write nowhere).
//   node --import ./src/cli/register.mjs bench/cpu.ts [--quick] [--budget S] [--no-pytorch] [--only REGEX]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setDefaultBackend } from '../src/backend/backends.ts';
import { tensor } from '../src/backend/create.ts';
import { Random } from '../src/backend/random.ts';
import { scope } from '../src/backend/scope.ts';
import type { BackendName, Tensor } from '../src/backend/tensor.ts';
import { initWasm } from '../src/backend/wasm/backend.ts';

import { machineLoad, median } from '../src/cli/timing.ts';
import { createModel } from '../src/nn/models.ts';
import { conv2d } from '../src/ops/conv2d.ts';
import { matmul } from '../src/ops/matmul.ts';
import { softmaxCrossEntropy } from '../src/ops/softmax-cross-entropy.ts';
import { Optimizer } from '../src/train/optimizer.ts';
import { cpuModel } from './environment.ts';
import { loadTfjs, tfInputs, tfjsModel, type Tf } from './peers/tfjs.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    budget: { type: 'string', default: '3' },
    out: { type: 'string' },
    'no-write': { type: 'boolean' },
    'no-pytorch': { type: 'boolean' },
    only: { type: 'string' },
  },
});
// --only REGEX: just the rows whose workload (e.g. "seed inference batch 1", "GEMM 512³") matches;
// a partial table is printed, not written over bench/CPU.md (unless --out names a place).
const only = args.only ? new RegExp(args.only, 'i') : null;
const wanted = (what: string) => !only || only.test(what);
const budgetMs = 1000 * Number(args.budget);
const quick = args.quick ?? false;
const say = (l: string) => console.error(l);

interface Row {
  what: string;
  engine: string;
  threads: number;
  batch?: number;
  ms: number;
  cpuMs: number | null;
  flops: number;
  images?: number;
  note?: string;
}
const rows: Row[] = [];
const skipped: string[] = [];

/** Median wall and CPU ms per call: one warm-up, then calls until the budget (at least 3). */
function time(call: () => void): { ms: number; cpuMs: number } {
  return alternate([{ call, threads: Number.POSITIVE_INFINITY }])[0];
}

interface Candidate {
  call: () => void;
  /** Our wasm backend's thread cap during the call (other engines ignore it). */
  threads: number;
}

/**
 * The candidates of one workload timed in alternation (a round calls each once, after one
 * warm-up round), so that a load that drifts during the run affects them alike; rounds until
 * the budget for all, at least 3. Median wall and CPU ms per call of each.
 */
function alternate(cands: Candidate[]): { ms: number; cpuMs: number }[] {
  const wall = cands.map(() => [] as number[]);
  const cpu = cands.map(() => [] as number[]);
  const once = (i: number): void => {
    wasm.maxThreads = cands[i].threads;
    try {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      cands[i].call();
      wall[i].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[i].push((c.user + c.system) / 1000);
    } finally {
      wasm.maxThreads = Number.POSITIVE_INFINITY;
    }
  };
  cands.forEach((_, i) => once(i));
  wall.forEach((w) => w.pop());
  cpu.forEach((w) => w.pop());
  const start = performance.now();
  const budget = budgetMs * cands.length;
  while (wall[0].length < 3 || (performance.now() - start < budget && wall[0].length < 15)) cands.forEach((_, i) => once(i));
  return cands.map((_, i) => ({ ms: median(wall[i]), cpuMs: median(cpu[i]) }));
}

const rng = new Random(3);
const randoms = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

// ---- the engines ----

const wasm = await initWasm();
const twoThreads = Math.min(2, wasm.threads?.threads ?? 1);
const oursThreads = [1, ...(twoThreads > 1 ? [2] : [])];
const loaded = await loadTfjs(['wasm'], undefined);
const tf: Tf | null = loaded.tf && loaded.peers[0].loaded ? loaded.tf : null;
const tfNote = loaded.peers[0].note ?? '';
if (!tf) skipped.push(`tfjs wasm: ${tfNote}`);
const tfThreads = Number(/(\d+) thread/.exec(tfNote)?.[1] ?? 1);


// ---- the WebAssembly SIMD peak ----

if (wanted('WebAssembly f32x4 mul+add peak')) {
  const { default: initWabt } = await import('wabt');
  const wabt = await initWabt();
  const text = readFileSync(join(BENCH_DIR, 'peak.wat'), 'utf8');
  const parsed = wabt.parseWat('peak.wat', text, { simd: true });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(parsed.toBinary({}).buffer as BufferSource));
  const fma = inst.exports.fma as (n: number) => number;
  const iters = 20_000_000;
  const t = time(() => void fma(iters));
  rows.push({ what: 'WebAssembly f32x4 mul+add peak (12 chains)', engine: 'wasm', threads: 1, ms: t.ms, cpuMs: t.cpuMs, flops: iters * 96 });
  say(`peak: ${((iters * 96) / t.cpuMs / 1e6).toFixed(1)} GFLOP per CPU-second`);
}


// ---- GEMMs ----

const GEMMS: [string, number, number, number][] = [
  ['GEMM 512³', 512, 512, 512],
  ['GEMM 1024³', 1024, 1024, 1024],
  ['GEMM seed conv2d_1 (M 256, N 2116, K 2304)', 256, 2116, 2304],
];
for (const [what, M, N, K] of (quick ? GEMMS.slice(0, 1) : GEMMS).filter(([what]) => wanted(what))) {
  const flops = 2 * M * N * K;
  const a = randoms(M * K);
  const b = randoms(K * N);
  const [aw, bw] = [tensor(a, [M, K], 'wasm'), tensor(b, [K, N], 'wasm')];
  const cands: (Candidate & { engine: string; shownThreads: number })[] = oursThreads.map((threads) => ({
    engine: 'ours wasm', threads, shownThreads: threads, call: () => matmul(aw, bw).dispose(),
  }));
  const [ac, bc] = [tensor(a, [M, K], 'cpu'), tensor(b, [K, N], 'cpu')];
  if (!quick) cands.push({ engine: 'ours cpu (TypeScript)', threads: 1, shownThreads: Math.min(8, cpus().length), call: () => matmul(ac, bc).dispose() });
  const ins = tf ? tfInputs(tf, 5) : null;
  if (tf && ins) {
    const [at, bt] = [ins.make([M, K]), ins.make([K, N])];
    cands.push({ engine: 'tfjs wasm', threads: 1, shownThreads: tfThreads, call: () => tf.matMul(at, bt).dispose() });
  }
  alternate(cands).forEach((t, i) => rows.push({ what, engine: cands[i].engine, threads: cands[i].shownThreads, ms: t.ms, cpuMs: t.cpuMs, flops }));
  [aw, bw, ac, bc].forEach((v) => v.dispose());
  ins?.dispose();
  say(`${what} done`);
}
if (wanted('seed conv2d_1 forward')) {
  // The convolution itself, forward, batch 1 (the GEMM above plus implicit im2col and the epilogue).
  const what = 'seed conv2d_1 forward, x[1,256,46,46] w[256,256,3,3]';
  const flops = 2 * 256 * 2116 * 2304;
  const [xt, wt, bt] = [tensor(randoms(256 * 46 * 46), [1, 256, 46, 46], 'wasm'), tensor(randoms(256 * 256 * 9), [256, 256, 3, 3], 'wasm'), tensor(randoms(256), [256], 'wasm')];
  const cands: (Candidate & { engine: string; shownThreads: number })[] = oursThreads.map((threads) => ({
    engine: 'ours wasm', threads, shownThreads: threads, call: () => conv2d(xt, wt, bt, { padding: 'same' }).dispose(),
  }));
  const ins = tf ? tfInputs(tf, 6) : null;
  if (tf && ins) {
    const [x, f, b] = [ins.make([1, 46, 46, 256]), ins.make([3, 3, 256, 256]), ins.make([256])];
    cands.push({ engine: 'tfjs wasm', threads: 1, shownThreads: tfThreads, call: () => tf.fused.conv2d({ x, filter: f, bias: b, strides: 1, pad: 'same' }).dispose() });
  }
  alternate(cands).forEach((t, i) => rows.push({ what, engine: cands[i].engine, threads: cands[i].shownThreads, ms: t.ms, cpuMs: t.cpuMs, flops }));
  [xt, wt, bt].forEach((v) => v.dispose());
  ins?.dispose();
}

// ---- whole models ----

interface ModelCase {
  model: 'seed' | 'small' | 'vgg';
  mode: 'inference' | 'train';
  batch: number;
  /** Our TypeScript specification too (slow: only where it finishes in seconds). */
  spec: boolean;
}
const CASES: ModelCase[] = quick
  ? [{ model: 'small', mode: 'train', batch: 8, spec: false }]
  : [
      { model: 'seed', mode: 'inference', batch: 1, spec: true },
      { model: 'seed', mode: 'inference', batch: 8, spec: false },
      { model: 'small', mode: 'train', batch: 64, spec: true },
      { model: 'small', mode: 'train', batch: 8, spec: false },
      { model: 'vgg', mode: 'train', batch: 64, spec: false },
      { model: 'seed', mode: 'train', batch: 8, spec: false },
      { model: 'seed', mode: 'train', batch: 64, spec: false },
    ];

/** GEMM FLOPs of one call, as bench/pytorch_seed.py counts them (conv and dense; training 3×, less the first layer's dX). */
function modelFlops(name: ModelCase['model'], mode: ModelCase['mode'], batch: number): number {
  const m = createModel(name);
  const macs = m.layers.map((l, i) => l.macs(m.shapes[i])).filter((v, i) => v > 0 && ['conv2d', 'dense'].includes(m.layers[i].type.toLowerCase()));
  const first = macs[0] ?? 0;
  const total = macs.reduce((a, b) => a + b, 0);
  return batch * 2 * (mode === 'inference' ? total : 3 * total - first);
}

function oursCall(c: ModelCase, backend: BackendName): { call: () => void; dispose: () => void } {
  setDefaultBackend(backend);
  const model = createModel(c.model).build(new Random(1), backend);
  const r = new Random(2);
  const x = tensor(Float32Array.from({ length: c.batch * model.inputShape.reduce((a, b) => a * b, 1) }, () => r.next()), [c.batch, ...model.inputShape], backend);
  const made: Tensor[] = [x];
  if (c.mode === 'inference') {
    return { call: () => scope(() => void model.forward(x, { training: false })), dispose: () => (made.forEach((t) => t.dispose()), model.dispose()) };
  }
  const labels = tensor(Float32Array.from({ length: c.batch }, () => r.int(7)), [c.batch], backend);
  made.push(labels);
  const optimizer = new Optimizer({ kind: 'adam', lr: 1e-3, momentum: 0, nesterov: false, weightDecay: 0 });
  return {
    call: () =>
      scope(() => {
        const logits = model.forward(x, { training: true, rng: r });
        model.backward(softmaxCrossEntropy(logits, labels).dlogits);
        optimizer.apply(model.params());
      }),
    dispose: () => {
      optimizer.dispose();
      made.forEach((t) => t.dispose());
      model.dispose();
    },
  };
}

function pytorch(c: ModelCase, threads: number): { ms: number } | string {
  if (args['no-pytorch']) return 'not run (--no-pytorch)';
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const steps = c.batch >= 64 && c.model !== 'small' ? 1 : 3;
  const run = spawnSync(
    python,
    [join(BENCH_DIR, 'pytorch_seed.py'), '--device', 'cpu', '--model', c.model, '--threads', String(threads), '--batch', String(c.batch),
      '--only', c.mode, '--warmup', '1', '--steps', String(steps), '--batches', '3', '--json'],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (run.status !== 0) return `PyTorch not run: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`;
  const j = JSON.parse(run.stdout) as { inference?: { ms: number }; train_step?: { ms: number } };
  const r = c.mode === 'inference' ? j.inference : j.train_step;
  return r ? { ms: r.ms } : 'PyTorch printed no timing';
}

for (const c of CASES) {
  const what = `${c.model} ${c.mode === 'train' ? 'training step (Adam)' : 'inference'}`;
  if (!wanted(`${what} batch ${c.batch}`)) continue;
  const flops = modelFlops(c.model, c.mode, c.batch);
  const base = { what, batch: c.batch, flops, images: c.batch };
  const made: { call: () => void; dispose: () => void }[] = [];
  const cands: (Candidate & { engine: string; shownThreads: number; note?: string })[] = [];
  // One model for both thread counts (the cap is set per call): two seed models at batch 64
  // would not fit in WebAssembly memory together.
  const ours = oursCall(c, 'wasm');
  made.push(ours);
  for (const threads of oursThreads) cands.push({ engine: 'ours wasm', threads, shownThreads: threads, call: ours.call });
  if (c.spec) {
    const p = oursCall(c, 'cpu');
    made.push(p);
    cands.push({ engine: 'ours cpu (TypeScript)', threads: 1, shownThreads: Math.min(8, cpus().length), call: p.call, note: 'GEMMs on worker threads, the rest on one' });
  }
  if (tf && c.mode === 'inference') {
    const p = tfjsModel(tf, createModel(c.model), c.batch, 'inference');
    made.push(p);
    cands.push({ engine: 'tfjs wasm', threads: 1, shownThreads: tfThreads, call: p.call });
  }
  try {
    alternate(cands).forEach((t, i) => rows.push({ ...base, engine: cands[i].engine, threads: cands[i].shownThreads, ms: t.ms, cpuMs: t.cpuMs, ...(cands[i].note ? { note: cands[i].note } : {}) }));
  } catch (e) {
    // The seed network's batch-64 step outgrows WebAssembly memory (2 GiB): recorded, not fatal.
    skipped.push(`${what}, batch ${c.batch}, ours: ${(e as Error).message}`);
  }
  made.forEach((p) => p.dispose());
  for (const threads of [1, 2]) {
    const r = pytorch(c, threads);
    if (typeof r === 'string') skipped.push(`${what}, batch ${c.batch}, PyTorch ${threads} thread(s): ${r}`);
    else rows.push({ ...base, engine: 'PyTorch cpu', threads, ms: r.ms, cpuMs: null });
  }
  setDefaultBackend('cpu');
  say(`${what}, batch ${c.batch} done`);
}

// ---- the tables ----

const load = machineLoad();
const fmt = (v: number, d = 1) => v.toFixed(d);
const lines: string[] = [];
lines.push('# CPU engines side by side (`npm run bench:cpu`)', '');
lines.push(`${new Date().toISOString().slice(0, 10)}, ${cpuModel()}, ${cpus().length} vCPUs, Node ${process.version}; ours: ${wasm.description}; tfjs wasm: ${tf ? tfNote : 'not loaded'}; load average at the end ${load.toFixed(2)}.`, '');
lines.push('Median of timed calls after a warm-up. "per CPU-second": work over the process\'s CPU time (all its threads), so it does not depend on how the cores were shared; wall-clock rates do. PyTorch\'s CPU time is not measured (another process).', '');
lines.push('| workload | batch | engine | threads | ms | GFLOP/s (wall) | GFLOP per CPU-s | images/s |');
lines.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const wall = r.flops / (r.ms * 1e6);
  const perCpu = r.cpuMs ? r.flops / (r.cpuMs * 1e6) : null;
  lines.push(`| ${r.what} | ${r.batch ?? ''} | ${r.engine} | ${r.threads} | ${fmt(r.ms, r.ms < 10 ? 2 : 1)} | ${fmt(wall)} | ${perCpu === null ? '—' : fmt(perCpu)} | ${r.images ? fmt((r.images * 1000) / r.ms) : ''} |`);
}
lines.push('');
const find = (what: string, engine: string, threads: number, batch?: number) => rows.find((r) => r.what === what && r.engine === engine && r.threads === threads && (batch === undefined || r.batch === batch));
const ratioLine = (label: string, a: Row | undefined, b: Row | undefined, better: 'lower' | 'higher') => {
  if (!a || !b) return;
  lines.push(`- ${label}: ${(a.ms / b.ms).toFixed(2)} (time ratio; ${better === 'lower' ? 'below 1: ours faster' : 'above 1: ours faster'})`);
};
lines.push('Ratios in this run:', '');
ratioLine('seed inference batch 1, ours wasm / tfjs wasm, 1 thread each', find('seed inference', 'ours wasm', 1, 1), find('seed inference', 'tfjs wasm', tfThreads, 1), 'lower');
ratioLine('small training batch 64, ours cpu (TypeScript) / ours wasm 2 threads (the speed-up)', find('small training step (Adam)', 'ours cpu (TypeScript)', Math.min(8, cpus().length), 64), find('small training step (Adam)', 'ours wasm', twoThreads, 64), 'higher');
ratioLine('small training batch 64, PyTorch / ours wasm, 1 thread each', find('small training step (Adam)', 'PyTorch cpu', 1, 64), find('small training step (Adam)', 'ours wasm', 1, 64), 'higher');
ratioLine('small training batch 64, PyTorch / ours wasm, 2 threads each', find('small training step (Adam)', 'PyTorch cpu', 2, 64), find('small training step (Adam)', 'ours wasm', twoThreads, 64), 'higher');
ratioLine('vgg training batch 64, PyTorch / ours wasm, 2 threads each', find('vgg training step (Adam)', 'PyTorch cpu', 2, 64), find('vgg training step (Adam)', 'ours wasm', twoThreads, 64), 'higher');
for (const [what] of GEMMS) ratioLine(`${what}, ours wasm 1 thread / 2 threads (thread scaling)`, find(what, 'ours wasm', 1), find(what, 'ours wasm', twoThreads), 'higher');
if (skipped.length) lines.push('', 'Not measured:', '', ...skipped.map((s) => `- ${s}`));
const md = lines.join('\n') + '\n';
console.log(md);
if (!args['no-write'] && (!only || args.out)) {
  const dir = args.out ?? BENCH_DIR;
  mkdirSync(join(dir, 'results'), { recursive: true });
  writeFileSync(join(dir, 'results', 'cpu.json'), JSON.stringify({ date: new Date().toISOString(), cpu: cpuModel(), vcpus: cpus().length, node: process.version, ours: wasm.description, tfjs: tfNote, load, rows, skipped }, null, 2) + '\n');
  writeFileSync(join(dir, 'CPU.md'), md);
  say(`wrote ${join(dir, 'CPU.md')} and ${join(dir, 'results', 'cpu.json')}`);
}
process.exit(0);
