// Peak rates of one backend, measured once per run: an FMA-bound kernel for GFLOP/s and a copy
// for GB/s. The kernel rows are reported as a fraction of these.
//
// WebGPU: bench/shaders/peak.wgsl through our backend's kernel machinery (gpu.run). CPU: the
// same two in plain TypeScript: a multiply-add loop with 8 independent accumulators over a
// small Float32Array (it stays in L1; V8 does scalar double arithmetic, so this is the peak a
// TypeScript loop can reach, not the core's SIMD peak), and Float32Array.prototype.set and a
// plain loop over buffers far larger than the caches (the faster of the two is the peak).
import peakWgsl from './shaders/peak.wgsl';
import { empty, tensor } from '../src/backend/create.ts';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { f32, grid1d, packParams, u32, type Kernel } from '../src/backend/webgpu/kernel.ts';
import { median, timeCalls, type Timing, type TimeOptions } from '../src/cli/timing.ts';
import type { PeakResult } from './result-types.ts';

const FMA: Kernel = { key: 'bench.peak.fma', code: peakWgsl, entry: 'fma_peak', bindings: ['write'] };
const COPY: Kernel = { key: 'bench.peak.copy', code: peakWgsl, entry: 'copy_peak', bindings: ['read', 'write'] };
const WORKGROUP = 64;
const FLOPS_PER_STEP = 8 * 4 * 2;

export async function gpuPeak(gpu: WebGpuBackend, budgetSeconds: number): Promise<PeakResult> {
  const probe = gpuPeakProbe(gpu);
  const sync = () => gpu.sync();
  const fma = await timeCalls(probe.fma, { repeat: 10, budgetSeconds, sync });
  const copy = await timeCalls(probe.copy, { repeat: 10, budgetSeconds, sync });
  probe.dispose();
  const { invocations, iterations, copyFloats } = gpuPeakSizes(gpu);
  return {
    backend: 'webgpu',
    gflops: probe.flops / (fma.ms * 1e6),
    gbs: probe.bytes / (copy.ms * 1e6),
    fma: `peak.wgsl fma_peak: ${invocations} invocations × ${iterations} steps × 8 vec4 fma`,
    copy: `peak.wgsl copy_peak: ${(copyFloats * 4) / 2 ** 20} MiB, vec4 loads and stores`,
    fmaMs: fma.ms,
    copyMs: copy.ms,
  };
}

// A software adapter runs some 10 GFLOP/s, a data-centre GPU thousands of times more: size the
// work so that one call is well above launch overhead on either.
function gpuPeakSizes(gpu: WebGpuBackend): { invocations: number; iterations: number; copyFloats: number } {
  const soft = gpu.info.software;
  return { invocations: soft ? 1 << 15 : 1 << 20, iterations: soft ? 256 : 2048, copyFloats: soft ? 1 << 22 : 1 << 26 };
}

const FMA_LENGTH = 1024;

/** 16 FLOPs per element per pass: 8 independent multiply-add chains. Returns a sum so V8 keeps the work. */
function fmaLoop(v: Float32Array, passes: number): number {
  let a0 = 1, a1 = 1.1, a2 = 1.2, a3 = 1.3, a4 = 1.4, a5 = 1.5, a6 = 1.6, a7 = 1.7;
  const c = 0.0009765625;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < v.length; i++) {
      const m = v[i];
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
      a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    }
  }
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

function copyLoop(src: Float32Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = src[i];
}

/** The CPU peak kernels' data (cpuPeak, cpuPeakProbe): the FMA loop's multipliers, and two 32 MiB buffers (far beyond the caches) to copy. */
function cpuPeakData(): { v: Float32Array; src: Float32Array; dst: Float32Array } {
  const n = 1 << 23;
  return {
    v: Float32Array.from({ length: FMA_LENGTH }, (_, i) => 0.999 + (i % 7) * 1e-4),
    src: Float32Array.from({ length: n }, (_, i) => i % 1000),
    dst: new Float32Array(n),
  };
}

export async function cpuPeak(budgetSeconds: number): Promise<PeakResult> {
  const none = () => Promise.resolve();
  const { v, src, dst } = cpuPeakData();
  const n = src.length;
  const passes = 4096;
  let sink = 0;
  const fma = await timeCalls(() => void (sink += fmaLoop(v, passes)), { repeat: 5, budgetSeconds, sync: none });
  if (!Number.isFinite(sink)) throw new Error('cpu peak: the FMA chains overflowed');

  const set = await timeCalls(() => dst.set(src), { repeat: 5, budgetSeconds: budgetSeconds / 2, sync: none });
  const loop = await timeCalls(() => copyLoop(src, dst), { repeat: 5, budgetSeconds: budgetSeconds / 2, sync: none });
  const best = set.ms <= loop.ms ? { ms: set.ms, how: 'Float32Array.prototype.set' } : { ms: loop.ms, how: 'a plain copy loop' };
  const flops = passes * FMA_LENGTH * 16;
  return {
    backend: 'cpu',
    gflops: flops / (fma.ms * 1e6),
    gbs: (2 * n * 4) / (best.ms * 1e6),
    fma: `TypeScript loop, 8 independent multiply-add chains over a ${FMA_LENGTH}-float array, ${passes} passes (one thread)`,
    copy: `${best.how} over 32 MiB (set ${((2 * n * 4) / (set.ms * 1e6)).toFixed(2)} GB/s, loop ${((2 * n * 4) / (loop.ms * 1e6)).toFixed(2)} GB/s; one thread)`,
    fmaMs: fma.ms,
    copyMs: best.ms,
  };
}

/**
 * One call of each peak kernel, sized to some tens of milliseconds, to time beside a kernel
 * (timeBesidePeak): the same kernels as gpuPeak and cpuPeak.
 */
export interface PeakProbe {
  fma: () => void;
  /** FLOPs of one fma() call. */
  flops: number;
  copy: () => void;
  /** Bytes moved by one copy() call. */
  bytes: number;
  dispose(): void;
}

export function gpuPeakProbe(gpu: WebGpuBackend): PeakProbe {
  const { invocations, iterations, copyFloats } = gpuPeakSizes(gpu);
  const sums = empty([invocations * 4], 'webgpu');
  const fmaParams = packParams([u32(invocations), u32(iterations), f32(0.9990234375), f32(0.0009765625)]);
  const src = tensor(Float32Array.from({ length: copyFloats }, (_, i) => (i % 1000) / 1000), [copyFloats], 'webgpu');
  const dst = empty([copyFloats], 'webgpu');
  const copyParams = packParams([u32(copyFloats / 4), u32(0), f32(0), f32(0)]);
  return {
    fma: () => gpu.run(FMA, [sums], fmaParams, grid1d(invocations, WORKGROUP)),
    flops: invocations * iterations * FLOPS_PER_STEP,
    copy: () => gpu.run(COPY, [src, dst], copyParams, grid1d(copyFloats / 4, WORKGROUP)),
    bytes: 2 * copyFloats * 4,
    dispose: () => [sums, src, dst].forEach((t) => t.dispose()),
  };
}

/** setIsFaster: cpuPeak's choice of copy (Float32Array.prototype.set or a plain loop). */
export function cpuPeakProbe(setIsFaster: boolean): PeakProbe {
  const { v, src, dst } = cpuPeakData();
  const passes = 1024;
  let sink = 0;
  return {
    fma: () => void (sink += fmaLoop(v, passes)),
    flops: passes * FMA_LENGTH * 16,
    // The copy cpuPeak found faster at the start of the run.
    copy: setIsFaster ? () => dst.set(src) : () => copyLoop(src, dst),
    bytes: 2 * src.length * 4,
    dispose: () => {},
  };
}

export interface BesidePeak extends Timing {
  /** Median over batches of the kernel's rate over the peak kernel's rate timed right after that batch. */
  fraction: number;
  /** Median of the peak kernel's rate over those batches: GFLOP/s (compute) or GB/s (memory). */
  peakRate: number;
}

/**
 * timeCalls, with one call of the peak kernel timed after every batch: the kernel's rate as a
 * fraction of the peak's is then a ratio of two measurements a few milliseconds apart, which a
 * machine whose speed drifts by a third over seconds (a software adapter on a shared host) moves
 * far less than a peak measured once at the start of the run.
 */
export async function timeBesidePeak(
  call: () => void, work: number, bound: 'compute' | 'memory', probe: PeakProbe, o: TimeOptions,
): Promise<BesidePeak> {
  const [peakCall, peakWork] = bound === 'compute' ? [probe.fma, probe.flops] : [probe.copy, probe.bytes];
  const peakMs = async (): Promise<number> => {
    const t0 = performance.now();
    peakCall();
    await o.sync();
    return performance.now() - t0;
  };
  await peakMs(); // warm-up: the peak kernel's pipeline and buffers
  const peakRates: number[] = [];
  const t = await timeCalls(call, { ...o, afterBatch: async () => void peakRates.push(peakWork / ((await peakMs()) * 1e6)) });
  const fractions = t.samples.map((ms, b) => work / (ms * 1e6) / peakRates[b]);
  return { ...t, fraction: median(fractions), peakRate: median(peakRates) };
}
