// Batch-norm folding (src/nn/fold.ts): whole-model inference before and after folding, and the
// passes folding removes, timed on their own, as the prediction of the gain.
//   node --import ./src/cli/register.mjs bench/fold.ts [--backend cpu|webgpu|both] [--models small,seed]
//        [--batches 1,8] [--budget S] [--max-seconds S]
// Per (backend, model, batch): first each folded pair's relu pass and batch-norm inference pass
// at its real shape (what folding removes; src/cli/timing.ts's timeCalls each), whose sum is the
// predicted saving; then the unfolded and the folded model's forward, one call each in
// alternation (AB BA AB …, each call synced), for about --budget seconds, after one warm-up call
// each. The machine is shared and its load drifts by the minute: alternating exposes both to the
// same load, and the median of the per-pair ratios is the figure to trust. The 1-minute load
// average is printed with every row. A configuration whose time per call (measured, or predicted
// from a smaller batch) exceeds --max-seconds is skipped and listed.
import { parseArgs } from 'node:util';
import { tensor } from '../src/backend/create.ts';
import { Random } from '../src/backend/random.ts';
import { keep, scope } from '../src/backend/scope.ts';
import type { BackendName, Shape, Tensor } from '../src/backend/tensor.ts';
import { initWebGpu, type WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { machineLoad, median, timeCalls } from '../src/cli/timing.ts';
import { BatchNorm } from '../src/nn/batchnorm.ts';
import { Conv2D } from '../src/nn/conv2d.ts';
import { Dense } from '../src/nn/dense.ts';
import { foldForInference } from '../src/nn/fold.ts';
import { createModel } from '../src/nn/models.ts';
import type { Sequential } from '../src/nn/sequential.ts';
import { batchNormInfer } from '../src/ops/batchnorm.ts';
import { relu } from '../src/ops/relu.ts';

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'both' },
    models: { type: 'string', default: 'small,seed' },
    batches: { type: 'string', default: '1,8' },
    budget: { type: 'string', default: '10' },
    'max-seconds': { type: 'string', default: '30' },
  },
});
const backends: BackendName[] = o.backend === 'both' ? ['cpu', 'webgpu'] : [o.backend as BackendName];
const models = o.models!.split(',');
const batches = o.batches!.split(',').map(Number);
const budgetSeconds = Number(o.budget);
const maxSeconds = Number(o['max-seconds']);

/** The (layer, batch norm) pairs folding fuses, with the shape of what passes between them. */
function foldedPairs(model: Sequential): { name: string; shape: Shape }[] {
  const pairs: { name: string; shape: Shape }[] = [];
  model.layers.forEach((l, i) => {
    if ((l instanceof Conv2D || l instanceof Dense) && model.layers[i + 1] instanceof BatchNorm) pairs.push({ name: l.name, shape: model.shapes[i + 1] });
  });
  return pairs;
}

function random(n: number, rng: Random, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

/** Running statistics away from their defaults, so the batch norms do real work. */
function trainedLooking(model: Sequential, rng: Random): void {
  for (const l of model.layers) {
    if (!(l instanceof BatchNorm)) continue;
    const [gamma, beta, mean, variance] = l.params();
    const C = gamma.value.size;
    const set = (p: typeof gamma, v: Float32Array) => {
      const old = p.value;
      p.value = keep(tensor(v, old.shape, old.backend));
      old.dispose();
    };
    set(gamma, random(C, rng, 0.5, 1.5));
    set(beta, random(C, rng, -0.3, 0.3));
    set(mean, random(C, rng, -0.5, 0.5));
    set(variance, random(C, rng, 0.5, 2));
  }
}

/** Unfolded (a) and folded (b) calls in alternation, after a warm-up call of each: per-call milliseconds. */
async function alternate(a: () => void, b: () => void, budgetMs: number, sync: () => Promise<void>): Promise<{ a: number[]; b: number[] }> {
  const one = async (f: () => void) => {
    const t0 = performance.now();
    f();
    await sync();
    return performance.now() - t0;
  };
  await one(a);
  await one(b);
  const out = { a: [] as number[], b: [] as number[] };
  const start = performance.now();
  for (let i = 0; i < 200 && (i < 3 || performance.now() - start < budgetMs); i++) {
    if (i % 2 === 0) {
      out.a.push(await one(a));
      out.b.push(await one(b));
    } else {
      out.b.push(await one(b));
      out.a.push(await one(a));
    }
  }
  return out;
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

async function bench(backend: BackendName, gpu: WebGpuBackend | null): Promise<void> {
  const sync = gpu ? () => gpu.sync() : () => Promise.resolve();
  const time = async (call: () => void) => (await timeCalls(call, { repeat: 4, budgetSeconds: 1, sync })).ms;
  const perImageMs = new Map<string, number>();
  for (const name of models) {
    for (const batch of batches) {
      const rng = new Random(1);
      const model = createModel(name).build(rng, backend);
      trainedLooking(model, rng);
      const folded = await foldForInference(model);
      const x = tensor(random(batch * 48 * 48, rng, 0, 1), [batch, 1, 48, 48], backend);
      const run = (m: Sequential) => () => scope(() => void m.forward(x, { training: false }));
      const label = `${name} ${backend} batch ${batch}`;

      // A bigger batch is predicted from the smaller one's time per image, before spending it.
      const predicted = perImageMs.has(name) ? perImageMs.get(name)! * batch : null;
      let firstMs = predicted ?? 0;
      if (predicted === null || predicted <= maxSeconds * 1000) {
        const t0 = performance.now();
        run(model)();
        await sync();
        firstMs = performance.now() - t0;
        perImageMs.set(name, firstMs / batch);
      }
      if (firstMs > maxSeconds * 1000) {
        const what = predicted === null || predicted <= maxSeconds * 1000 ? 'the first unfolded call took' : 'predicted from the smaller batch:';
        console.log(`${label}: skipped, ${what} ${(firstMs / 1000).toFixed(1)} s per call > --max-seconds ${maxSeconds} (load ${machineLoad().toFixed(2)})`);
        x.dispose();
        model.dispose();
        folded.dispose();
        continue;
      }

      // The prediction: what the removed passes cost on their own at these shapes.
      const pairs = foldedPairs(model);
      let removedMs = 0;
      let elements = 0;
      for (const { shape } of pairs) {
        const s = [batch, ...shape];
        const size = s.reduce((a, b) => a * b, 1);
        elements += size;
        const z = tensor(random(size, rng), s, backend);
        const C = shape[0];
        const per = (lo: number, hi: number) => tensor(random(C, rng, lo, hi), [C], backend);
        const bn: Tensor[] = [per(0.5, 1.5), per(-0.3, 0.3), per(-0.5, 0.5), per(0.5, 2)];
        removedMs += await time(() => relu(z).dispose());
        removedMs += await time(() => batchNormInfer(z, bn[0], bn[1], bn[2], bn[3]).dispose());
        for (const t of [z, ...bn]) t.dispose();
      }

      const { a: plain, b: fused } = await alternate(run(model), run(folded), budgetSeconds * 1000, sync);
      const before = median(plain);
      const after = median(fused);
      const ratios = plain.map((p, i) => fused[i] / p).sort((u, v) => u - v);
      const ratio = median(ratios);
      const quartile = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))].toFixed(3);
      const mib = (elements * 16) / 2 ** 20;
      console.log(
        `${label}: unfolded ${fmt(before)} ms, folded ${fmt(after)} ms (medians of ${plain.length} calls each), saved ${fmt(before - after)} ms; ` +
          `median folded/unfolded ratio ${ratio.toFixed(3)} (${(100 * (1 - ratio)).toFixed(1)}% saved; quartiles ${quartile(0.25)}–${quartile(0.75)}); ` +
          `predicted ${fmt(removedMs)} ms = ${((100 * removedMs) / before).toFixed(1)}% (${pairs.length} relu + ${pairs.length} batch-norm passes over ${(elements / 1e6).toFixed(2)} M values, ${mib.toFixed(1)} MiB moved, ${2 * pairs.length} dispatches); ` +
          `load ${machineLoad().toFixed(2)}`,
      );
      x.dispose();
      model.dispose();
      folded.dispose();
    }
  }
}

for (const backend of backends) {
  const gpu = backend === 'webgpu' ? await initWebGpu() : null;
  console.log(`backend ${backend}${gpu ? ` (${gpu.info.name})` : ''}, load ${machineLoad().toFixed(2)}`);
  await bench(backend, gpu);
  gpu?.destroy();
}
