import { cpus } from 'node:os';
import { setDefaultBackend } from '../backend/backends.ts';
import '../backend/cpu.ts';
import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { Random } from '../backend/random.ts';
import { scope } from '../backend/scope.ts';
import type { BackendName } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { createModel, MODEL_NAMES } from '../nn/models.ts';
import type { Sequential } from '../nn/sequential.ts';
import { conv2d } from '../ops/conv2d.ts';
import { REGISTER_SCALAR_TILES, REGISTER_TALL_TILES, REGISTER_TILES, setGemmTiles, SHARED_TILES, type GemmTiles } from '../ops/gemm.ts';
import { relu } from '../ops/relu.ts';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.ts';
import { Optimizer } from '../train/optimizer.ts';
import { rates, type Cost } from '../ops/costs.ts';
import { defineCommand, parseFlags } from './flags.ts';
import { kernelCases, MIN_TRAIN_VALUES, modelFlops, type KernelCase, type Prepared } from './kernel-plan.ts';
import { machineLoad, timeCalls, type Timing } from './timing.ts';

const GEMM_NAMES = ['auto', 'registers', 'tall', 'scalar', 'shared', 'all'] as const;

export const KERNELS = defineCommand({
  usage: 'fer kernels [options]',
  about: `Times every kernel of a model's training step at the shapes of its layers (each distinct shape
once), on the CPU backend, WebGPU or both, then a whole-model forward pass and training step.
Prints the median time per call, GFLOP/s, GB/s for memory-bound kernels, the GEMM kernel used
on WebGPU and, with --backend both, the CPU/WebGPU time ratio (above 1: WebGPU is faster).
The WebGPU adapter's name, vendor and architecture are printed first.`,
  flags: {
    backend: { kind: 'choice', choices: ['cpu', 'webgpu', 'both'], help: '(default both; cpu when there is no WebGPU adapter)' },
    model: { kind: 'choice', choices: MODEL_NAMES, default: 'seed', help: 'the model whose layer shapes are timed' },
    batch: { kind: 'int', help: 'images per batch (default 1 on a software WebGPU adapter such as\nSwiftShader, else 8)' },
    repeat: { kind: 'int', default: 10, help: 'calls per timed batch, fewer for slow kernels' },
    budget: { kind: 'number', arg: 'S', min: 0, open: 'min', default: 2, help: 'seconds of timed calls to aim for per kernel' },
    'max-seconds': { kind: 'number', arg: 'S', min: 0, open: 'min', default: 5, help: 'skip a kernel predicted to take longer per call' },
    gemm: {
      kind: 'choice',
      choices: GEMM_NAMES,
      default: 'auto',
      help: "GEMM tiles on WebGPU (auto: the adapter's choice;\nregisters: 4×4 blocks, vec4 where matmul allows; tall: 8×2;\nscalar: 4×4 without vec4; all: one row per tile shape for every\nGEMM-shaped kernel)",
    },
    only: { kind: 'text', arg: 'NAME', help: 'only kernels whose name contains NAME or that run in the layer\ncalled NAME (e.g. conv2d_1, batchnorm, matmul, model)' },
    json: { kind: 'bool', help: 'print only JSON on stdout' },
  },
});

const GEMM_CHOICES: Record<string, (GemmTiles | null)[]> = {
  auto: [null],
  registers: [REGISTER_TILES],
  tall: [REGISTER_TALL_TILES],
  scalar: [REGISTER_SCALAR_TILES],
  shared: [SHARED_TILES],
  all: [REGISTER_TILES, REGISTER_TALL_TILES, REGISTER_SCALAR_TILES, SHARED_TILES],
};

export interface KernelsOptions {
  backends: BackendName[];
  model: string;
  batch: number | null;
  repeat: number;
  budget: number;
  maxSeconds: number;
  gemm: string;
  only: string | null;
  json: boolean;
}

/** The command line, checked (one-line errors for bad values); null after printing --help. */
export function parseKernelsArgs(argv: string[]): KernelsOptions | null {
  const args = parseFlags(KERNELS, argv);
  if (!args) return null;
  const v = args.values;
  const b = v.backend;
  return {
    backends: b === 'cpu' ? ['cpu'] : b === 'webgpu' ? ['webgpu'] : ['cpu', 'webgpu'],
    model: v.model,
    batch: v.batch ?? null,
    repeat: v.repeat,
    budget: v.budget,
    maxSeconds: v['max-seconds'],
    gemm: v.gemm,
    only: v.only ?? null,
    json: v.json,
  };
}

export interface Row {
  kernel: string;
  layers: string[];
  shape: string;
  backend: BackendName;
  /** GEMM kernel on WebGPU ('registers', 'registers+vec4', 'shared'); null elsewhere. */
  variant: string | null;
  ms: number;
  gflops: number;
  gbs: number | null;
  flops: number;
  bytes: number;
  /** CPU time / WebGPU time at the same shape (WebGPU rows with --backend both). */
  cpuOverGpu: number | null;
  samples: number[];
  repeat: number;
  note?: string;
}

export interface ModelRow {
  what: 'forward' | 'train-step';
  backend: BackendName;
  batch: number;
  ms: number;
  imagesPerSecond: number;
  /** GEMM FLOPs only (convolutions and dense layers). */
  gflops: number;
  /** CPU time / WebGPU time (WebGPU rows with --backend both). */
  cpuOverGpu: number | null;
  samples: number[];
  note?: string;
}

export interface Skipped {
  kernel: string;
  shape: string;
  backend: BackendName;
  reason: string;
}

/** Per-call seconds a kernel is expected to take, from the probe rates of its backend. */
export function predictSeconds(cost: Cost, rate: { gflops: number; gbs: number }): number {
  return cost.bound === 'compute' ? cost.flops / (rate.gflops * 1e9) : cost.bytes / (rate.gbs * 1e9);
}

/** Whether a kernel runs, and if not the line that says why. */
export function skipReason(cost: Cost, rate: { gflops: number; gbs: number }, maxSeconds: number): string | null {
  const s = predictSeconds(cost, rate);
  if (s <= maxSeconds) return null;
  const basis =
    cost.bound === 'compute'
      ? `${(cost.flops / 1e9).toFixed(2)} GFLOP at the ${rate.gflops.toFixed(2)} GFLOP/s of the GEMM probe`
      : `${(cost.bytes / 1e6).toFixed(0)} MB at the ${rate.gbs.toFixed(2)} GB/s of the memory probe`;
  return `predicted ${s.toFixed(1)} s per call (${basis}) > --max-seconds ${maxSeconds}`;
}

/** --only: the kernel's name contains NAME, or one of its layers is called NAME. */
export function matchesOnly(only: string | null, kernel: string, layers: readonly string[]): boolean {
  if (only === null) return true;
  const o = only.toLowerCase();
  return kernel.toLowerCase().includes(o) || layers.some((l) => l.toLowerCase() === o);
}

interface Device {
  name: BackendName;
  gpu: WebGpuBackend | null;
  sync: () => Promise<void>;
  rate: { gflops: number; gbs: number };
}

/** Probe rates for predicting which kernels would take too long: a small conv and a relu. */
async function probe(name: BackendName, gpu: WebGpuBackend | null, budget: number): Promise<Device> {
  const sync = gpu ? () => gpu.sync() : () => Promise.resolve();
  const rng = new Random(1);
  const rand = (shape: number[]) => tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.uniform(-1, 1)), shape, name);
  const [x, w, v] = [rand([1, 32, 24, 24]), rand([64, 32, 3, 3]), rand([1 << 20])];
  const conv = await timeCalls(() => conv2d(x, w, null, { padding: 'same' }).dispose(), { repeat: 3, budgetSeconds: budget / 4, sync });
  const mem = await timeCalls(() => relu(v).dispose(), { repeat: 3, budgetSeconds: budget / 4, sync });
  for (const t of [x, w, v]) t.dispose();
  const convFlops = 2 * 64 * 32 * 9 * 24 * 24;
  return { name, gpu, sync, rate: { gflops: convFlops / (conv.ms * 1e6), gbs: (8 << 20) / (mem.ms * 1e6) } };
}

async function timeModel(model: Sequential, dev: Device, batch: number, what: ModelRow['what'], o: KernelsOptions): Promise<ModelRow | Skipped> {
  const flops = modelFlops(model, batch, what === 'forward' ? 'forward' : 'train');
  const cost: Cost = { flops, bytes: 0, bound: 'compute' };
  const reason = skipReason(cost, dev.rate, o.maxSeconds);
  if (reason) return { kernel: `model.${what}`, shape: `${model.name}, batch ${batch}`, backend: dev.name, reason };
  setDefaultBackend(dev.name);
  model.build(new Random(1), dev.name);
  const rng = new Random(2);
  const x = tensor(Float32Array.from({ length: batch * 48 * 48 }, () => rng.next()), [batch, 1, 48, 48], dev.name);
  const labels = tensor(Float32Array.from({ length: batch }, () => rng.int(model.classes.length)), [batch], dev.name);
  const optimizer = new Optimizer({ kind: 'adam', lr: 1e-3, momentum: 0, nesterov: false, weightDecay: 0 });
  const call =
    what === 'forward'
      ? () => scope(() => void model.forward(x, { training: false }))
      : () =>
          scope(() => {
            const logits = model.forward(x, { training: true, rng });
            model.backward(softmaxCrossEntropy(logits, labels).dlogits);
            optimizer.apply(model.params());
          });
  try {
    const t = await timeCalls(call, { repeat: o.repeat, budgetSeconds: o.budget, sync: dev.sync });
    return { what, backend: dev.name, batch, ms: t.ms, imagesPerSecond: (batch * 1000) / t.ms, gflops: flops / (t.ms * 1e6), cpuOverGpu: null, samples: t.samples };
  } finally {
    for (const t of [x, labels]) t.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

async function timeKernel(c: KernelCase, dev: Device, o: KernelsOptions): Promise<Timing> {
  let p: Prepared | null = null;
  try {
    p = c.prepare(dev.name);
    const ready = p;
    return await timeCalls(() => ready.call(), { repeat: o.repeat, budgetSeconds: o.budget, sync: dev.sync });
  } finally {
    p?.dispose();
  }
}

export interface KernelsReport {
  command: string;
  date: string;
  machine: { cpus: number; cpuModel: string; loadBefore: number; loadAfter: number };
  adapter: { name: string; software: boolean; note?: string } | null;
  model: string;
  batch: number;
  notes: string[];
  probes: { backend: BackendName; gflops: number; gbs: number }[];
  rows: Row[];
  models: ModelRow[];
  skipped: Skipped[];
}

/** Runs the benchmark; `say` gets progress lines (stderr), the report is returned. */
export async function runKernels(o: KernelsOptions, say: (line: string) => void): Promise<KernelsReport> {
  const notes: string[] = [];
  let gpu: WebGpuBackend | null = null;
  let backends = o.backends;
  if (backends.includes('webgpu')) {
    try {
      const { initWebGpu } = await import('../backend/webgpu/backend.ts');
      gpu = await initWebGpu();
    } catch (e) {
      if (o.backends.length === 1 || !(e instanceof FerError)) throw e;
      notes.push(`WebGPU skipped: ${e.message}`);
      backends = ['cpu'];
    }
  }
  const software = gpu?.info.software ?? false;
  const batch = o.batch ?? (gpu && software ? 1 : 8);
  if (o.batch === null) {
    notes.push(gpu && software ? `batch 1: the WebGPU adapter is a software renderer (${gpu.info.name}); --batch N for more` : `batch ${batch} (default; --batch N to change)`);
  }
  const model = createModel(o.model);
  const loadBefore = machineLoad();
  const devices: Device[] = [];
  for (const name of backends) {
    say(`probing ${name}…`);
    devices.push(await probe(name, name === 'webgpu' ? gpu : null, o.budget));
  }
  const rows: Row[] = [];
  const skipped: Skipped[] = [];
  const cases = kernelCases(model, batch).filter((c) => matchesOnly(o.only, c.kernel, c.layers));
  for (const c of cases) {
    let cpuMs: number | null = null;
    for (const dev of devices) {
      const tilesList = dev.gpu && c.variant ? GEMM_CHOICES[o.gemm] : [null];
      // Tile sets that give this kernel the same GEMM code (a convolution never takes vec4) run once.
      const ran = new Set<string>();
      for (const tiles of tilesList) {
        const reason = skipReason(c.cost, dev.rate, o.maxSeconds);
        if (reason) {
          skipped.push({ kernel: c.kernel, shape: c.shape, backend: dev.name, reason });
          say(`skip  ${c.kernel} ${c.shape} on ${dev.name}: ${reason}`);
          break;
        }
        if (dev.gpu && c.variant) setGemmTiles(tiles);
        try {
          const variant = dev.gpu && c.variant ? c.variant(dev.gpu) : null;
          if (variant !== null && ran.has(variant)) continue;
          if (variant !== null) ran.add(variant);
          const t = await timeKernel(c, dev, o);
          const r = rates(c.cost, t.ms);
          const ratio = dev.name === 'webgpu' && cpuMs !== null ? cpuMs / t.ms : null;
          if (dev.name === 'cpu') cpuMs = t.ms;
          const row: Row = {
            kernel: c.kernel, layers: c.layers, shape: c.shape, backend: dev.name, variant, ms: t.ms, gflops: r.gflops, gbs: r.gbs,
            flops: c.cost.flops, bytes: c.cost.bytes, cpuOverGpu: ratio, samples: t.samples, repeat: t.repeat, note: c.note,
          };
          rows.push(row);
          say(formatRow(row));
        } finally {
          if (dev.gpu) setGemmTiles(null);
        }
      }
    }
  }
  const models: ModelRow[] = [];
  if (matchesOnly(o.only, 'model.forward model.train-step', [])) {
    for (const dev of devices) {
      for (const what of ['forward', 'train-step'] as const) {
        // Training batch norm needs two values per channel: a dense layer at batch 1 has one.
        const b = what === 'train-step' ? Math.max(batch, MIN_TRAIN_VALUES) : batch;
        const r = await timeModel(model, dev, b, what, o);
        if ('reason' in r) {
          skipped.push(r);
          say(`skip  ${r.kernel} (${r.shape}) on ${dev.name}: ${r.reason}`);
        } else {
          if (b !== batch) r.note = `batch ${b}: training batch norm needs ${MIN_TRAIN_VALUES} values per channel`;
          const cpu = models.find((m) => m.backend === 'cpu' && m.what === r.what);
          if (r.backend === 'webgpu' && cpu) r.cpuOverGpu = cpu.ms / r.ms;
          models.push(r);
          say(formatModelRow(r));
        }
      }
    }
  }
  setDefaultBackend('cpu');
  return {
    command: `fer kernels ${process.argv.slice(3).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadBefore, loadAfter: machineLoad() },
    adapter: gpu ? { name: gpu.info.name, software: gpu.info.software, note: gpu.note } : null,
    model: o.model,
    batch,
    notes,
    probes: devices.map((d) => ({ backend: d.name, gflops: d.rate.gflops, gbs: d.rate.gbs })),
    rows,
    models,
    skipped,
  };
}

const fixed = (v: number | null, digits: number) => (v === null ? '' : v >= 100 ? v.toFixed(0) : v.toFixed(digits));

function formatRow(r: Row): string {
  return [
    r.kernel.padEnd(24),
    r.shape.padEnd(44),
    r.backend.padEnd(7),
    (r.variant ?? '').padEnd(15),
    fixed(r.ms, 3).padStart(9),
    fixed(r.gflops, 3).padStart(8),
    fixed(r.gbs, 3).padStart(8),
    (r.cpuOverGpu === null ? '' : `${r.cpuOverGpu.toFixed(2)}×`).padStart(8),
    `  ${r.layers.join(', ')}${r.note ? ` (${r.note})` : ''}`,
  ].join(' ');
}

function formatModelRow(r: ModelRow): string {
  const ratio = r.cpuOverGpu === null ? '' : `  cpu/gpu ${r.cpuOverGpu.toFixed(2)}×`;
  return `model ${r.what.padEnd(11)} ${r.backend.padEnd(7)} batch ${String(r.batch).padEnd(4)} ${fixed(r.ms, 1).padStart(9)} ms ${fixed(r.imagesPerSecond, 2).padStart(9)} images/s ${fixed(r.gflops, 3).padStart(8)} GFLOP/s${ratio}${r.note ? `  (${r.note})` : ''}`;
}

export function formatReport(rep: KernelsReport): string {
  const lines: string[] = [];
  lines.push(`fer kernels: model ${rep.model}, batch ${rep.batch}, ${rep.date}`);
  lines.push(`machine: ${rep.machine.cpus} × ${rep.machine.cpuModel}; load average ${rep.machine.loadBefore.toFixed(2)} before, ${rep.machine.loadAfter.toFixed(2)} after`);
  lines.push(`adapter: ${rep.adapter ? `${rep.adapter.name}${rep.adapter.software ? ' (software renderer)' : ''}${rep.adapter.note ? `; ${rep.adapter.note}` : ''}` : 'none (CPU only)'}`);
  for (const n of rep.notes) lines.push(`note: ${n}`);
  for (const p of rep.probes) lines.push(`probe ${p.backend}: ${p.gflops.toFixed(3)} GFLOP/s on a 32→64 3×3 conv at 24×24, ${p.gbs.toFixed(3)} GB/s on relu over 2^20 values`);
  if (rep.rows.length > 0) {
    lines.push('');
    lines.push(
      [
        'kernel'.padEnd(24), 'shape'.padEnd(44), 'backend'.padEnd(7), 'gemm'.padEnd(15), 'ms'.padStart(9), 'GFLOP/s'.padStart(8), 'GB/s'.padStart(8), 'cpu/gpu'.padStart(8), '  layers',
      ].join(' '),
    );
    for (const r of rep.rows) lines.push(formatRow(r));
  }
  if (rep.models.length > 0) {
    lines.push('');
    for (const r of rep.models) lines.push(formatModelRow(r));
  }
  if (rep.skipped.length > 0) {
    lines.push('');
    lines.push('skipped:');
    for (const s of rep.skipped) lines.push(`  ${s.kernel} ${s.shape} on ${s.backend}: ${s.reason}`);
  }
  lines.push('');
  lines.push('ms: median per call; GFLOP/s and GB/s from the counts in src/ops/costs.ts (GB/s for memory-bound kernels only); cpu/gpu above 1: WebGPU is faster');
  return lines.join('\n');
}

export async function kernelsCommand(argv: string[]): Promise<void> {
  const o = parseKernelsArgs(argv);
  if (!o) return;
  const report = await runKernels(o, o.json ? () => {} : (l) => console.error(l));
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`\n${formatReport(report)}`);
}
