// `npm run bench`: one run that measures our backends and TensorFlow.js side by side: peak
// rates, the seed model's kernels at its layer shapes, whole models, the peers on the same
// models; prints the tables and writes results/<adapter-slug>.json and RESULTS.md.
//   node --import ./src/cli/register.mjs bench/run.ts [options]   (--help for them)
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/backend/cpu.ts';
import { FerError } from '../src/backend/errors.ts';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { machineLoad } from '../src/cli/timing.ts';
import { gemmThreadCount } from '../src/ops/gemm.ts';
import { commit, cpuModel } from './environment.ts';
import { benchKernels } from './kernel-bench.ts';
import { benchModels, oursImpl, tfjsImpl, type ModelImpl } from './model-bench.ts';
import { parseBenchArgs, SECTIONS, type BenchOptions, type Section } from './options.ts';
import { cpuPeak, gpuPeak } from './peak.ts';
import { loadTfjs, type TfDevice } from './peers/tfjs.ts';
import type { BenchResults } from './result-types.ts';
import { writeResults } from './results-files.ts';
import { runMarkdown } from './results-md.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
/** --quick times these layers' kernels only: one small convolution, a pool, a batch norm, a dense layer. */
const QUICK_LAYERS = ['conv2d_5', 'max_pooling2d_2', 'batch_normalization_4', 'dense_1'];

async function openGpu(notes: string[]): Promise<WebGpuBackend | null> {
  try {
    const { initWebGpu } = await import('../src/backend/webgpu/backend.ts');
    return await initWebGpu();
  } catch (e) {
    notes.push(`WebGPU not measured: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    return null;
  }
}

function defaultBatch(o: BenchOptions, gpu: WebGpuBackend | null): { batch: number; note: string } {
  if (o.batch !== null) return { batch: o.batch, note: 'from --batch' };
  if (o.quick) return { batch: 1, note: '--quick' };
  if (gpu && !gpu.info.software) return { batch: 64, note: 'default on a hardware adapter (the CPU rows run at it too, or are skipped as too slow)' };
  return {
    batch: 1,
    note: `default ${gpu ? `on a software adapter (${gpu.info.name})` : 'on the CPU alone'}: the seed model is 3 GFLOP per image forward, batch 64 would take minutes per call here; inference throughput at B = 1 is the latency row`,
  };
}

/** Where results go: DIR/results/<slug>.json and DIR/RESULTS.md, or nowhere. */
function outDir(o: BenchOptions): string | null {
  if (!o.write) return null;
  if (o.out) return o.out;
  if (o.quick) return mkdtempSync(join(tmpdir(), 'fer-bench-quick-'));
  // A partial run would replace a full run's file with fewer figures, unless it merges.
  if (o.sections.length < SECTIONS.length && !o.merge) return null;
  return BENCH_DIR;
}

async function main(argv: string[]): Promise<void> {
  const o = parseBenchArgs(argv);
  if (!o) return;
  const wants = (s: Section) => o.sections.includes(s);
  const say = (line: string) => console.error(line);
  const notes: string[] = [];
  const loadBefore = machineLoad();
  const gpu = o.backends.includes('webgpu') ? await openGpu(notes) : null;
  const backends = o.backends.filter((b) => b === 'cpu' || gpu).map((name) => ({ name, gpu: name === 'webgpu' ? gpu : null }));
  const { batch, note: batchNote } = defaultBatch(o, gpu);
  say(`bench: batch ${batch} (${batchNote}); adapter: ${gpu ? gpu.info.name : 'none'}; load ${loadBefore.toFixed(2)}`);
  const r: BenchResults = {
    schema: 1,
    date: new Date().toISOString(),
    commit: commit(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    node: process.version,
    quick: o.quick,
    machine: { cpuModel: cpuModel(), cpus: cpus().length, gemmThreads: gemmThreadCount(), loadBefore, loadAfter: 0 },
    adapter: gpu ? { name: gpu.info.name, software: gpu.info.software, ...(gpu.note ? { note: gpu.note } : {}) } : null,
    batch,
    batchNote,
    sections: o.sections,
    notes,
    tfjsVersion: null,
    peers: [],
    peak: [],
    kernels: [],
    models: [],
    skipped: [],
    loads: {},
  };

  // The kernels' fractions need the peak, so it runs for them too.
  if (wants('peak') || wants('kernels')) {
    r.loads.peak = machineLoad();
    for (const b of backends) {
      say(`peak ${b.name}…`);
      const p = b.gpu ? await gpuPeak(b.gpu, o.budget) : await cpuPeak(o.budget);
      r.peak.push(p);
      say(`peak ${b.name}: ${p.gflops.toFixed(3)} GFLOP/s FMA, ${p.gbs.toFixed(3)} GB/s copy`);
    }
  }
  if (wants('kernels')) {
    r.loads.kernels = machineLoad();
    const k = await benchKernels(backends, r.peak, { batch, budget: o.budget, repeat: 10, maxSeconds: o.maxSeconds, layers: o.quick ? QUICK_LAYERS : null }, say);
    r.kernels = k.rows;
    r.skipped.push(...k.skipped);
  }
  if (wants('models') || wants('peers')) {
    const impls: ModelImpl[] = [];
    if (wants('models')) impls.push(...backends.map((b) => oursImpl(b.name, b.gpu)));
    if (wants('peers')) {
      r.loads.peers = machineLoad();
      // Peers follow --backend: tfjs cpu and wasm beside our cpu, tfjs webgpu beside our webgpu.
      const devices: TfDevice[] = backends.flatMap((b): TfDevice[] => (b.name === 'cpu' ? ['cpu', 'wasm'] : ['webgpu']));
      const dawn = (globalThis as { __ferDawn?: GPU }).__ferDawn;
      const { tf, peers } = await loadTfjs(devices, dawn);
      r.peers = peers;
      r.tfjsVersion = tf ? tf.version['tfjs-core'] : null;
      for (const p of peers) say(`tfjs ${p.device}: ${p.loaded ? 'loaded' : 'NOT loaded'}${p.note ? ` (${p.note})` : ''}`);
      if (tf) impls.push(...peers.filter((p) => p.loaded).map((p) => tfjsImpl(tf, p.device as TfDevice)));
    }
    // Ours and theirs side by side on each device: cpu, wasm, then webgpu.
    const order = { cpu: 0, wasm: 1, webgpu: 2 };
    impls.sort((a, b) => order[a.device] - order[b.device]);
    r.loads.models = machineLoad();
    const m = await benchModels(impls, { models: o.models, modes: o.modes, batch, budget: o.budget, repeat: 5, maxSeconds: o.modelMaxSeconds, alwaysTimeOurs: o.quick }, say);
    r.models = m.rows;
    r.skipped.push(...m.skipped);
  }
  r.machine.loadAfter = machineLoad();

  console.log(runMarkdown(r));
  const dir = outDir(o);
  if (dir) for (const f of writeResults(dir, r, o.merge)) say(`wrote ${f}`);
  else say(o.write ? 'nothing written: a run with --only writes only with --out DIR or --merge' : 'nothing written (--no-write)');
  gpu?.destroy();
}

try {
  await main(process.argv.slice(2));
  process.exit(0);
} catch (e) {
  if (e instanceof FerError) {
    console.error(`bench: ${e.message.replace(/^bench: /, '')}`);
    process.exit(1);
  }
  throw e;
}
