// The seed model's heavy kernels at its real layer shapes: every convolution's forward,
// backward-input and backward-filter pass, max pooling, batch norm and the dense layers'
// products, at batch B, each as a fraction of the backend's measured peak. The cases, their
// FLOP and byte counts and the skip rule are `fer kernels`' (src/cli/kernel-plan.ts, src/ops/costs.ts).
import { tensor } from '../src/backend/create.ts';
import { Random } from '../src/backend/random.ts';
import type { BackendName } from '../src/backend/tensor.ts';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { rates } from '../src/ops/costs.ts';
import { kernelCases, type KernelCase, type Prepared } from '../src/cli/kernel-plan.ts';
import { skipReason } from '../src/cli/kernels.ts';
import { machineLoad, timeCalls, type Timing } from '../src/cli/timing.ts';
import { cpuPeakProbe, gpuPeakProbe, timeBesidePeak, type PeakProbe } from './peak.ts';
import { createModel } from '../src/nn/models.ts';
import { conv2d } from '../src/ops/conv2d.ts';
import { relu } from '../src/ops/relu.ts';
import type { KernelResult, PeakResult, Skip } from './result-types.ts';
import { autotuneKernelUse } from '../src/ops/conv2d-tune.ts';

/** The kernel families this section times (relu, sums, dropout, loss and optimizers are `fer kernels`' business). */
export const KERNEL_FAMILIES = ['conv2d.', 'maxpool2d.', 'batchnorm.', 'matmul.'];

export interface KernelBenchOptions {
  batch: number;
  budget: number;
  repeat: number;
  maxSeconds: number;
  /** Only the kernels that run in these layers (--quick), or all. */
  layers: string[] | null;
}

export function seedKernelCases(o: Pick<KernelBenchOptions, 'batch' | 'layers'>): KernelCase[] {
  return kernelCases(createModel('seed'), o.batch).filter(
    (c) => KERNEL_FAMILIES.some((f) => c.kernel.startsWith(f)) && (o.layers === null || c.layers.some((l) => o.layers!.includes(l))),
  );
}

interface Probe {
  gflops: number;
  gbs: number;
}

/** Rates for predicting which kernels would take too long (as `fer kernels`): a small conv and a relu. */
async function probe(backend: BackendName, sync: () => Promise<void>): Promise<Probe> {
  const rng = new Random(1);
  const rand = (shape: number[]) => tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.uniform(-1, 1)), shape, backend);
  const [x, w, v] = [rand([1, 32, 24, 24]), rand([64, 32, 3, 3]), rand([1 << 20])];
  const conv = await timeCalls(() => conv2d(x, w, null, { padding: 'same' }).dispose(), { repeat: 3, budgetSeconds: 0.3, sync });
  const mem = await timeCalls(() => relu(v).dispose(), { repeat: 3, budgetSeconds: 0.3, sync });
  for (const t of [x, w, v]) t.dispose();
  return { gflops: (2 * 64 * 32 * 9 * 24 * 24) / (conv.ms * 1e6), gbs: (8 << 20) / (mem.ms * 1e6) };
}

export async function benchKernels(
  backends: { name: 'cpu' | 'webgpu'; gpu: WebGpuBackend | null }[],
  peaks: PeakResult[],
  o: KernelBenchOptions,
  say: (line: string) => void,
): Promise<{ rows: KernelResult[]; skipped: Skip[] }> {
  const rows: KernelResult[] = [];
  const skipped: Skip[] = [];
  const cases = seedKernelCases(o);
  for (const { name, gpu } of backends) {
    const sync = gpu ? () => gpu.sync() : () => Promise.resolve();
    const rate = await probe(name, sync);
    const peak = peaks.find((p) => p.backend === name);
    // With a peak measured for this backend, its kernels are timed once more after every batch
    // (timeBesidePeak), and each row's fraction is against the peak of its own rounds.
    const beside: PeakProbe | null = peak ? (gpu ? gpuPeakProbe(gpu) : cpuPeakProbe(peak.copy.startsWith('Float32Array'))) : null;
    for (const c of cases) {
      const what = `${c.kernel} ${c.shape}`;
      const reason = skipReason(c.cost, rate, o.maxSeconds);
      if (reason) {
        skipped.push({ what, device: name, impl: 'ours', reason });
        say(`skip  ${what} on ${name}: ${reason}`);
        continue;
      }
      let p: Prepared | null = null;
      try {
        if (gpu) await autotuneKernelUse(gpu, c);
        p = c.prepare(name);
        const ready = p;
        const timing = { repeat: o.repeat, budgetSeconds: o.budget, sync };
        const work = c.cost.bound === 'compute' ? c.cost.flops : c.cost.bytes;
        const t: Timing & { fraction?: number; peakRate?: number } = beside ? await timeBesidePeak(() => ready.call(), work, c.cost.bound, beside, timing) : await timeCalls(() => ready.call(), timing);
        const r = rates(c.cost, t.ms);
        const gbs = c.cost.bytes / (t.ms * 1e6);
        const fraction = t.fraction ?? null;
        const row: KernelResult = {
          kernel: c.kernel, layers: c.layers, shape: c.shape, backend: name, variant: gpu && c.variant ? c.variant(gpu) : null, batch: o.batch,
          ms: t.ms, flops: c.cost.flops, bytes: c.cost.bytes, bound: c.cost.bound, gflops: r.gflops, gbs, peakFraction: fraction, samples: t.samples, load: machineLoad(),
        };
        if (t.peakRate !== undefined) row.peakBeside = t.peakRate;
        if (c.note) row.note = c.note;
        rows.push(row);
        const rateText = c.cost.bound === 'compute' ? `${r.gflops.toFixed(3)} GFLOP/s` : `${gbs.toFixed(3)} GB/s`;
        const peakText = t.peakRate !== undefined ? ` (${t.peakRate.toFixed(3)} ${c.cost.bound === 'compute' ? 'GFLOP/s' : 'GB/s'} beside it)` : '';
        say(`${c.kernel.padEnd(24)} ${c.shape.padEnd(44)} ${name.padEnd(7)} ${t.ms.toFixed(2).padStart(10)} ms ${rateText.padStart(16)}${fraction === null ? '' : `  ${(fraction * 100).toFixed(1)}% of peak${peakText}`}`);
      } catch (e) {
        skipped.push({ what, device: name, impl: 'ours', reason: `failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` });
      } finally {
        p?.dispose();
      }
    }
    beside?.dispose();
  }
  return { rows, skipped };
}
