// Whole models, ours and the peers': inference latency at batch 1, inference throughput at
// batch B, and training throughput at batch B (forward, backward, Adam update) in images/s.
//
// Each (model, mode) runs on every implementation before the next; `small` runs before `seed`,
// and a seed row whose time per call, predicted from the same implementation's rate on
// `small`, exceeds the cap is skipped and listed (the small network uses a device less well
// than the seed one, so the prediction errs towards skipping). A row whose uncounted warm-up
// call alone exceeds the cap is dropped after that call.
import { setDefaultBackend } from '../src/backend/backends.ts';
import { tensor } from '../src/backend/create.ts';
import { Random } from '../src/backend/random.ts';
import { scope } from '../src/backend/scope.ts';
import type { BackendName, Tensor } from '../src/backend/tensor.ts';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { MIN_TRAIN_VALUES, modelFlops } from '../src/cli/kernel-plan.ts';
import { machineLoad, timeCalls } from '../src/cli/timing.ts';
import { createModel } from '../src/nn/models.ts';
import type { Sequential } from '../src/nn/sequential.ts';
import { softmaxCrossEntropy } from '../src/ops/softmax-cross-entropy.ts';
import { Optimizer } from '../src/train/optimizer.ts';
import { enterTfjs, syncTfjs, tfjsModel, type Tf, type TfDevice } from './peers/tfjs.ts';
import type { Device, ModelMode, ModelResult, Skip } from './result-types.ts';
import { autotuneModelConvs } from '../src/nn/autotune.ts';

interface Prepared {
  call(): void;
  dispose(): void;
}

/** One implementation of the models on one device. */
export interface ModelImpl {
  impl: 'ours' | 'tfjs';
  device: Device;
  /** Why a mode cannot run here (tfjs-wasm training), or null. */
  cannot(mode: ModelMode): string | null;
  enter(): Promise<void>;
  sync(): Promise<void>;
  prepare(model: Sequential, batch: number, mode: ModelMode): Prepared;
  /** Ours on a hardware GPU: autotune the model's convolutions at this batch before timing (nn/autotune.ts). */
  tune?(model: Sequential, batch: number, mode: ModelMode): Promise<unknown>;
}

function oursPrepare(model: Sequential, backend: BackendName, batch: number, mode: ModelMode): Prepared {
  model.build(new Random(1), backend);
  const rng = new Random(2);
  const made: Tensor[] = [];
  const x = tensor(Float32Array.from({ length: batch * 48 * 48 }, () => rng.next()), [batch, 1, 48, 48], backend);
  made.push(x);
  const dispose = () => {
    made.forEach((t) => t.dispose());
    model.dispose();
  };
  if (mode !== 'train') return { call: () => scope(() => void model.forward(x, { training: false })), dispose };
  const labels = tensor(Float32Array.from({ length: batch }, () => rng.int(model.classes.length)), [batch], backend);
  made.push(labels);
  const optimizer = new Optimizer({ kind: 'adam', lr: 1e-3, momentum: 0, nesterov: false, weightDecay: 0 });
  return {
    call: () =>
      scope(() => {
        const logits = model.forward(x, { training: true, rng });
        model.backward(softmaxCrossEntropy(logits, labels).dlogits);
        optimizer.apply(model.params());
      }),
    dispose: () => {
      optimizer.dispose();
      dispose();
    },
  };
}

export function oursImpl(backend: BackendName, gpu: WebGpuBackend | null): ModelImpl {
  return {
    impl: 'ours',
    device: backend,
    cannot: () => null,
    enter: async () => setDefaultBackend(backend),
    sync: gpu ? () => gpu.sync() : () => Promise.resolve(),
    prepare: (model, batch, mode) => oursPrepare(model, backend, batch, mode),
    ...(gpu ? { tune: (model: Sequential, batch: number, mode: ModelMode) => autotuneModelConvs(gpu, model, batch, { training: mode === 'train' }) } : {}),
  };
}

export function tfjsImpl(tf: Tf, device: TfDevice): ModelImpl {
  return {
    impl: 'tfjs',
    device,
    cannot: (mode) => (device === 'wasm' && mode === 'train' ? 'tfjs-wasm 4.22 has no Conv2DBackpropFilter kernel: it cannot train a convolution' : null),
    enter: () => enterTfjs(tf, device),
    sync: () => syncTfjs(tf, device),
    prepare: (model, batch, mode) => tfjsModel(tf, model, batch, mode === 'train' ? 'train' : 'inference'),
  };
}

export interface ModelBenchOptions {
  models: string[];
  modes: ModelMode[];
  /** B: the batch of the throughput figures (training uses at least 2). */
  batch: number;
  budget: number;
  repeat: number;
  /** Skip a seed row predicted to take longer than this per call. */
  maxSeconds: number;
  /**
   * Time our own rows even when their warm-up call exceeds maxSeconds (--quick: the rows CI
   * reads must exist however busy the machine is; a slow peer is still skipped, with why).
   */
  alwaysTimeOurs?: boolean;
}

/** The batch each mode runs at. */
export function modeBatch(mode: ModelMode, batch: number): number {
  if (mode === 'latency') return 1;
  // Batch norm after a dense layer needs two values per channel to train.
  return mode === 'train' ? Math.max(batch, MIN_TRAIN_VALUES) : batch;
}

const label = (impl: ModelImpl) => `${impl.impl} ${impl.device}`;

export async function benchModels(
  impls: ModelImpl[],
  o: ModelBenchOptions,
  say: (line: string) => void,
): Promise<{ rows: ModelResult[]; skipped: Skip[] }> {
  const rows: ModelResult[] = [];
  const skipped: Skip[] = [];
  // At B = 1 the throughput row would be the latency row again.
  const modes = o.modes.filter((m) => !(m === 'inference' && o.batch === 1));
  for (const name of o.models) {
    for (const mode of modes) {
      const batch = modeBatch(mode, o.batch);
      const flops = modelFlops(createModel(name), batch, mode === 'train' ? 'train' : 'forward');
      const what = `${name} ${mode}, batch ${batch}`;
      for (const impl of impls) {
        const skip = (reason: string) => {
          skipped.push({ what, device: impl.device, impl: impl.impl, reason });
          say(`skip  ${what} on ${label(impl)}: ${reason}`);
        };
        const cannot = impl.cannot(mode);
        if (cannot) {
          skip(cannot);
          continue;
        }
        // The rate this implementation reached on another model in the same mode predicts this one.
        const seen = rows.find((r) => r.impl === impl.impl && r.device === impl.device && r.mode === mode && r.model !== name);
        const predicted = seen ? flops / (seen.gflops * 1e9) : 0;
        if (predicted > o.maxSeconds) {
          skip(`predicted ${predicted.toFixed(0)} s per call (${(flops / 1e9).toFixed(1)} GFLOP at the ${seen!.gflops.toFixed(3)} GFLOP/s measured on ${seen!.model}) > --model-max-seconds ${o.maxSeconds}`);
          continue;
        }
        let p: Prepared | null = null;
        try {
          await impl.enter();
          const model = createModel(name);
          await impl.tune?.(model, batch, mode);
          p = impl.prepare(model, batch, mode);
          const ready = p;
          // The uncounted warm-up call also guards the cap: one that already took longer ends the row.
          let t0 = -1;
          let warmedUp = false;
          const call = () => {
            if (t0 < 0) t0 = performance.now();
            ready.call();
          };
          const sync = async () => {
            await impl.sync();
            if (warmedUp) return;
            warmedUp = true;
            const s = (performance.now() - t0) / 1000;
            if (s > o.maxSeconds && !(o.alwaysTimeOurs && impl.impl === 'ours')) throw new Error(`not timed: the warm-up call took ${s.toFixed(1)} s > --model-max-seconds ${o.maxSeconds}`);
          };
          const t = await timeCalls(call, { repeat: o.repeat, budgetSeconds: o.budget, sync });
          const row: ModelResult = {
            model: name, mode, impl: impl.impl, device: impl.device, batch, ms: t.ms,
            imagesPerSecond: (batch * 1000) / t.ms, gflops: flops / (t.ms * 1e6), samples: t.samples, load: machineLoad(),
          };
          if (mode === 'train' && batch !== o.batch) row.note = `batch ${batch}: training batch norm needs ${MIN_TRAIN_VALUES} values per channel`;
          rows.push(row);
          say(`${what.padEnd(30)} ${label(impl).padEnd(12)} ${t.ms.toFixed(1).padStart(9)} ms ${row.imagesPerSecond.toFixed(2).padStart(8)} images/s`);
        } catch (e) {
          const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
          skip(msg.startsWith('not timed:') ? msg : `failed: ${msg}`);
        } finally {
          p?.dispose();
        }
      }
    }
  }
  setDefaultBackend('cpu');
  return { rows, skipped };
}
