// fer-webgpu beside TensorFlow.js on this machine, in one run: a 512³ matmul, the seed model's
// convolutions (forward, with bias), and whole-model inference of `seed` and `small`, each on
// our CPU backend, TensorFlow.js's CPU backend (pure JavaScript), our WebGPU backend and
// TensorFlow.js's WebGPU backend (both on the same Dawn adapter).
//   node --import ./src/cli/register.mjs bench/peers.ts [--batch N] [--only matmul|conv|model] [--budget S]
// Needs @tensorflow/tfjs and @tensorflow/tfjs-backend-webgpu (4.22); a peer that cannot load is
// reported and left out. Timing is src/cli/timing.ts for everyone: warm-up, probe, then the
// median of batches of calls with one wait for the device per batch. tfjs's WebGPU backend is
// made to submit its queued commands before that wait. Inputs and weights are random: only the
// time matters. tfjs runs NHWC (x [N,H,W,C], filters [R,S,C,K]); the shapes are converted.
import { parseArgs } from 'node:util';
import { setDefaultBackend } from '../src/backend/backends.ts';
import { tensor } from '../src/backend/create.ts';
import { Random } from '../src/backend/random.ts';
import { scope } from '../src/backend/scope.ts';
import type { BackendName, Tensor } from '../src/backend/tensor.ts';
import { initWebGpu, type WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { modelFlops } from '../src/cli/kernel-plan.ts';
import { machineLoad, timeCalls } from '../src/cli/timing.ts';
import { Conv2D } from '../src/nn/conv2d.ts';
import { createModel } from '../src/nn/models.ts';
import type { Sequential } from '../src/nn/sequential.ts';
import { conv2d, conv2dGeometry, type Padding } from '../src/ops/conv2d.ts';
import { matmul, matmulPath } from '../src/ops/matmul.ts';
import { enterTfjs, loadTfjs, syncTfjs, tfjsModel, type Tf, type TfTensor } from './peers/tfjs.ts';

const { values: args } = parseArgs({
  options: { batch: { type: 'string', default: '1' }, only: { type: 'string' }, budget: { type: 'string', default: '3' } },
});
const batch = Number(args.batch);
const budgetSeconds = Number(args.budget);
const wants = (part: string) => !args.only || args.only === part;

// ---- the peers (bench/peers/tfjs.ts: loading, sync, the models in tfjs ops) ----

const gpu: WebGpuBackend = await initWebGpu();
const notes: string[] = [];
const loaded = await loadTfjs(['cpu', 'webgpu'], (globalThis as { __ferDawn?: GPU }).__ferDawn);
const tf: Tf | null = loaded.tf;
for (const p of loaded.peers) if (!p.loaded) notes.push(`tfjs ${p.device} backend not loaded (${p.note}): needs @tensorflow/tfjs@4.22.0 and @tensorflow/tfjs-backend-webgpu@4.22.0`);
const tfWebgpu = loaded.peers.some((p) => p.device === 'webgpu' && p.loaded);

// ---- implementations: each makes a workload's inputs and returns the call to time ----

type Call = { call: () => void; dispose: () => void };
interface Impl {
  name: string;
  device: BackendName;
  /** Sets the implementation up before its workloads run. */
  enter(): Promise<void>;
  sync(): Promise<void>;
  matmul(n: number): Call;
  conv(x: number[], w: number[], padding: Padding): Call;
  model(m: Sequential, b: number): Call;
}

const rng = new Random(7);
const randoms = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function ours(backend: BackendName): Impl {
  const made: Tensor[] = [];
  const t = (shape: number[]) => {
    const v = tensor(randoms(size(shape)), shape, backend);
    made.push(v);
    return v;
  };
  const done = () => made.splice(0).forEach((v) => v.dispose());
  return {
    name: `ours ${backend}`,
    device: backend,
    enter: async () => setDefaultBackend(backend),
    sync: backend === 'webgpu' ? () => gpu.sync() : () => Promise.resolve(),
    matmul: (n) => {
      const [a, b] = [t([n, n]), t([n, n])];
      return { call: () => matmul(a, b).dispose(), dispose: done };
    },
    conv: (x, w, padding) => {
      const [xt, wt, bt] = [t(x), t(w), t([w[0]])];
      return { call: () => conv2d(xt, wt, bt, { padding }).dispose(), dispose: done };
    },
    model: (m, b) => {
      m.build(new Random(1), backend);
      const x = t([b, ...m.inputShape]);
      return {
        call: () => scope(() => void m.forward(x, { training: false })),
        dispose: () => {
          done();
          m.dispose();
        },
      };
    },
  };
}

function peer(tfjs: Tf, backend: 'cpu' | 'webgpu'): Impl {
  const made: TfTensor[] = [];
  const t = (shape: number[], lo = -1, hi = 1) => {
    const v = tfjs.tensor(Float32Array.from({ length: size(shape) }, () => rng.uniform(lo, hi)), shape);
    made.push(v);
    return v;
  };
  const done = () => made.splice(0).forEach((v) => v.dispose());
  const nhwc = (s: number[]) => [s[0], s[2], s[3], s[1]];
  const rsck = (w: number[]) => [w[2], w[3], w[1], w[0]];
  return {
    name: `tfjs ${backend}`,
    device: backend,
    enter: () => enterTfjs(tfjs, backend),
    sync: () => syncTfjs(tfjs, backend),
    matmul: (n) => {
      const [a, b] = [t([n, n]), t([n, n])];
      return { call: () => tfjs.matMul(a, b).dispose(), dispose: done };
    },
    conv: (x, w, padding) => {
      const [xt, ft, bt] = [t(nhwc(x)), t(rsck(w)), t([w[0]])];
      return { call: () => tfjs.fused.conv2d({ x: xt, filter: ft, bias: bt, strides: 1, pad: padding }).dispose(), dispose: done };
    },
    // The same layers as our model, from its layer list (inference: running statistics, no dropout).
    model: (m, b) => tfjsModel(tfjs, m, b, 'inference'),
  };
}

const impls: Impl[] = [ours('cpu')];
if (tf) impls.push(peer(tf, 'cpu'));
impls.push(ours('webgpu'));
if (tf && tfWebgpu) impls.push(peer(tf, 'webgpu'));

// ---- the workloads ----

interface Result {
  ms: number;
  samples: number;
}
interface Workload {
  name: string;
  flops: number;
  images?: number;
  make(impl: Impl): Call;
}

const workloads: Workload[] = [];
if (wants('matmul')) workloads.push({ name: 'matmul 512×512×512', flops: 2 * 512 ** 3, make: (i) => i.matmul(512) });
if (wants('conv')) {
  const seed = createModel('seed');
  seed.layers.forEach((layer, i) => {
    if (!(layer instanceof Conv2D)) return;
    const x = [batch, ...seed.shapes[i]];
    const w = [layer.opts.filters, x[1], layer.opts.kernelSize, layer.opts.kernelSize];
    const g = conv2dGeometry(x, w, { padding: layer.opts.padding });
    workloads.push({
      name: `seed ${layer.name} x[${x}] w[${w}] ${layer.opts.padding}`,
      flops: 2 * g.N * g.K * g.OH * g.OW * g.C * g.R * g.S,
      make: (impl) => impl.conv(x, w, layer.opts.padding),
    });
  });
}
if (wants('model')) {
  for (const name of ['small', 'seed']) {
    workloads.push({
      name: `${name} inference, batch ${batch}`,
      flops: modelFlops(createModel(name), batch, 'forward'),
      images: batch,
      make: (impl) => impl.model(createModel(name), batch),
    });
  }
}

console.log(`# fer-webgpu and TensorFlow.js ${tf ? tf.version['tfjs-core'] : '(not loaded)'}, ${new Date().toISOString()}`);
console.log(`adapter: ${gpu.info.name}${gpu.info.software ? ' (software)' : ''}; ours on WebGPU uses ${matmulPath(gpu, 512, 512, 512, {})} for the matmul`);
console.log(`load average before: ${machineLoad().toFixed(2)}`);
for (const n of notes) console.log(`note: ${n}`);

const results = new Map<string, Map<string, Result>>();
for (const wl of workloads) {
  const row = new Map<string, Result>();
  results.set(wl.name, row);
  for (const impl of impls) {
    await impl.enter();
    let c: Call | null = null;
    try {
      c = wl.make(impl);
      const ready = c;
      const t = await timeCalls(() => ready.call(), { repeat: 3, budgetSeconds, sync: () => impl.sync() });
      row.set(impl.name, { ms: t.ms, samples: t.samples.length });
      console.error(`${wl.name} | ${impl.name}: ${t.ms.toFixed(1)} ms`);
    } catch (e) {
      console.error(`${wl.name} | ${impl.name}: failed: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      c?.dispose();
    }
  }
}

// ---- the table: ms per call, then GFLOP/s or images/s; ratios tfjs time / our time ----

const cell = (wl: Workload, r: Result | undefined) => {
  if (!r) return '—';
  const rate = wl.images ? `${((wl.images * 1000) / r.ms).toFixed(2)} img/s` : `${(wl.flops / (r.ms * 1e6)).toFixed(2)} GFLOP/s`;
  return `${r.ms.toFixed(r.ms >= 100 ? 0 : 1)} ms (${rate})`;
};
const ratio = (a: Result | undefined, b: Result | undefined) => (a && b ? `${(a.ms / b.ms).toFixed(2)}` : '—');
console.log('');
console.log('| workload | GFLOP | ours cpu | tfjs cpu | tfjs/ours cpu | ours webgpu | tfjs webgpu | tfjs/ours webgpu |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const wl of workloads) {
  const r = results.get(wl.name)!;
  const get = (n: string) => r.get(n);
  console.log(
    `| ${wl.name} | ${(wl.flops / 1e9).toFixed(3)} | ${cell(wl, get('ours cpu'))} | ${cell(wl, get('tfjs cpu'))} | ${ratio(get('tfjs cpu'), get('ours cpu'))} | ` +
      `${cell(wl, get('ours webgpu'))} | ${cell(wl, get('tfjs webgpu'))} | ${ratio(get('tfjs webgpu'), get('ours webgpu'))} |`,
  );
}
console.log('');
console.log(`load average after: ${machineLoad().toFixed(2)}. tfjs/ours above 1: ours is faster. GFLOP counts the GEMMs only.`);
gpu.destroy();
process.exit(0);
