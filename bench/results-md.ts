// Markdown for benchmark results: one section per run (per adapter), the tables the console
// shows, and RESULTS.md as every adapter's latest run, newest first.
import type { BenchResults, Device, KernelResult, ModelResult } from './result-types.ts';
import { targetsMarkdown } from './targets.ts';

const num = (v: number, digits = 2) => (v >= 1000 ? v.toFixed(0) : v >= 100 ? v.toFixed(1) : v.toFixed(digits));
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

function header(r: BenchResults): string[] {
  const out = [
    `## ${r.adapter ? r.adapter.name : `CPU only (${r.machine.cpuModel})`}${r.quick ? ' (quick run)' : ''}`,
    '',
    `- date: ${r.date}; commit: \`${r.commit}\`; command: \`${r.command}\``,
    `- adapter: ${r.adapter ? `${r.adapter.name}${r.adapter.software ? ' (software renderer)' : ''}${r.adapter.note ? `; ${r.adapter.note}` : ''}` : 'none (CPU only)'}`,
    `- Node ${r.node}; CPU: ${r.machine.cpus} × ${r.machine.cpuModel}`,
    `- load average (1 min): ${r.machine.loadBefore.toFixed(2)} at the start, ${r.machine.loadAfter.toFixed(2)} at the end; per section at its start: ${Object.entries(r.loads).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
    `- batch B = ${r.batch}: ${r.batchNote}`,
    `- peers: TensorFlow.js ${r.tfjsVersion ?? '(not loaded)'}; ${r.peers.map((p) => `${p.device} ${p.loaded ? 'loaded' : 'NOT loaded'}${p.note ? ` (${p.note})` : ''}`).join('; ') || 'not run'}`,
  ];
  for (const n of r.notes) out.push(`- note: ${n}`);
  return out;
}

function peakTable(r: BenchResults): string[] {
  if (r.peak.length === 0) return [];
  return [
    '',
    '### Peak (measured once, at the start of the run)',
    '',
    '| backend | FMA GFLOP/s | copy GB/s | FMA kernel | copy |',
    '| --- | ---: | ---: | --- | --- |',
    ...r.peak.map((p) => `| ${p.backend} | ${num(p.gflops, 3)} | ${num(p.gbs, 3)} | ${p.fma} | ${p.copy} |`),
  ];
}

const rateOf = (k: KernelResult) => (k.bound === 'compute' ? `${num(k.gflops, 3)} GFLOP/s` : `${num(k.gbs, 3)} GB/s`);

function kernelTable(r: BenchResults): string[] {
  if (r.kernels.length === 0) return [];
  const keys = [...new Set(r.kernels.map((k) => `${k.kernel}|${k.shape}`))];
  const cell = (k: KernelResult | undefined) => (k ? [ms(k.ms), rateOf(k), pct(k.peakFraction)] : ['—', '—', '—']);
  const rows = keys.map((key) => {
    const [cpu, gpu] = (['cpu', 'webgpu'] as const).map((b) => r.kernels.find((k) => `${k.kernel}|${k.shape}` === key && k.backend === b));
    const any = (cpu ?? gpu)!;
    const note = any.note ? ` (${any.note})` : '';
    return `| ${any.kernel} | ${any.shape}${note} | ${any.layers.join(', ')} | ${cell(cpu).join(' | ')} | ${cell(gpu).join(' | ')} | ${gpu?.variant ?? ''} |`;
  });
  return [
    '',
    `### Kernels at the seed model's layer shapes, batch ${r.batch}`,
    '',
    `Median ms per call; GFLOP/s for the GEMM-shaped kernels (fraction of the FMA peak), GB/s for the others (fraction of the copy peak); counts from src/ops/costs.ts. ${
      r.kernels.some((k) => k.peakBeside !== undefined)
        ? 'Each fraction is the median over batches of the kernel\'s rate over the peak kernel\'s, timed right after each batch of calls (bench/peak.ts timeBesidePeak): this machine\'s speed drifts by up to a third over seconds, which a peak measured once moves into every row.'
        : 'Fractions of the peak measured once at the start of the run.'
    }`,
    '',
    '| kernel | shape | layers | cpu ms | cpu rate | cpu % peak | webgpu ms | webgpu rate | webgpu % peak | webgpu GEMM |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ];
}

const IMPLS: { impl: 'ours' | 'tfjs'; device: Device }[] = [
  { impl: 'ours', device: 'cpu' },
  { impl: 'tfjs', device: 'cpu' },
  { impl: 'tfjs', device: 'wasm' },
  { impl: 'ours', device: 'webgpu' },
  { impl: 'tfjs', device: 'webgpu' },
];

/** Ours over theirs, time per call: below 1, ours is faster. */
export function oursOverTfjs(models: ModelResult[], model: string, mode: string, batch: number, ours: Device, theirs: Device): number | null {
  const find = (impl: string, device: Device) => models.find((m) => m.model === model && m.mode === mode && m.batch === batch && m.impl === impl && m.device === device);
  const [a, b] = [find('ours', ours), find('tfjs', theirs)];
  return a && b ? a.ms / b.ms : null;
}

function modelTable(r: BenchResults): string[] {
  if (r.models.length === 0) return [];
  const keys = [...new Map(r.models.map((m) => [`${m.model}|${m.mode}|${m.batch}`, m])).values()];
  const cell = (m: ModelResult | undefined) => (m ? `${ms(m.ms)} ms (${num(m.imagesPerSecond)} img/s)` : '—');
  const ratio = (v: number | null) => (v === null ? '—' : v.toFixed(2));
  const rows = keys.map((k) => {
    const cells = IMPLS.map(({ impl, device }) => cell(r.models.find((m) => m.model === k.model && m.mode === k.mode && m.batch === k.batch && m.impl === impl && m.device === device)));
    const ratios = (['cpu', 'wasm', 'webgpu'] as const).map((d) => ratio(oursOverTfjs(r.models, k.model, k.mode, k.batch, d === 'wasm' ? 'cpu' : d, d)));
    return `| ${k.model} | ${k.mode} | ${k.batch} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`;
  });
  return [
    '',
    `### Whole models (B = ${r.batch})`,
    '',
    'latency: inference at batch 1; inference: throughput at batch B; train: forward, backward and Adam update. ' +
      'Median ms per call (images/s). The last three columns are **ours / tfjs time per call: below 1, ours is faster** ' +
      '(ours cpu against tfjs cpu and against tfjs wasm; ours webgpu against tfjs webgpu on the same adapter).',
    '',
    '| model | mode | batch | ours cpu | tfjs cpu | tfjs wasm | ours webgpu | tfjs webgpu | ours/tfjs cpu | ours cpu/tfjs wasm | ours/tfjs webgpu |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ];
}

function skippedList(r: BenchResults): string[] {
  if (r.skipped.length === 0) return [];
  return ['', '### Not measured', '', ...r.skipped.map((s) => `- ${s.what} on ${s.impl ?? ''} ${s.device}: ${s.reason}`.replace(/ {2}/g, ' '))];
}

/** The tables of one run (what the console shows at the end). */
export function runMarkdown(r: BenchResults): string {
  return [...header(r), ...peakTable(r), ...kernelTable(r), ...modelTable(r), ...skippedList(r), '', ...targetsMarkdown(r)].join('\n');
}

export function resultsMarkdown(runs: BenchResults[]): string {
  const sorted = [...runs].sort((a, b) => b.date.localeCompare(a.date));
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts) from the JSON files in bench/results/, one per adapter; see bench/README.md for ' +
      'how it measures. Every figure was measured at the batch stated beside it; none is scaled from another.',
    '',
    ...sorted.flatMap((r) => [runMarkdown(r), '']),
  ].join('\n');
}
