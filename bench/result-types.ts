// The JSON `npm run bench` writes to bench/results/<adapter-slug>.json, and what RESULTS.md is
// rendered from. Every figure is a measurement at the batch stated beside it; nothing is scaled.

/** Where a figure was measured: our two backends, and the peers' backends. */
export type Device = 'cpu' | 'wasm' | 'webgpu';

export interface PeakResult {
  backend: 'cpu' | 'webgpu';
  /** Multiply-add throughput of the FMA kernel (2 FLOPs per multiply-add). */
  gflops: number;
  /** Copy bandwidth, bytes read plus bytes written per second. */
  gbs: number;
  /** What was run, in words (kernel shape, sizes, method). */
  fma: string;
  copy: string;
  fmaMs: number;
  copyMs: number;
}

export interface KernelResult {
  kernel: string;
  layers: string[];
  shape: string;
  backend: 'cpu' | 'webgpu';
  /** The GEMM kernel on WebGPU, for GEMM-shaped kernels. */
  variant: string | null;
  batch: number;
  ms: number;
  flops: number;
  bytes: number;
  bound: 'compute' | 'memory';
  gflops: number;
  gbs: number;
  /**
   * GFLOP/s over the FMA peak (compute-bound) or GB/s over the copy peak (memory-bound), the peak
   * kernel timed after each batch of calls (the median of the per-batch ratios; results written
   * before 2026-12-02 used the peak measured once at the start of the run); null without a peak.
   */
  peakFraction: number | null;
  /** The peak kernel's median rate over this row's batches (GFLOP/s or GB/s; absent in older results). */
  peakBeside?: number;
  samples: number[];
  /** 1-minute load average when the row finished (absent in results written before it was recorded). */
  load?: number;
  note?: string;
}

export type ModelMode = 'latency' | 'inference' | 'train';

export interface ModelResult {
  model: string;
  mode: ModelMode;
  impl: 'ours' | 'tfjs';
  device: Device;
  batch: number;
  ms: number;
  imagesPerSecond: number;
  /** Convolution and dense FLOPs only (src/cli/kernel-plan.ts modelFlops). */
  gflops: number;
  samples: number[];
  /** 1-minute load average when the row finished (absent in results written before it was recorded). */
  load?: number;
  note?: string;
}

export interface Skip {
  what: string;
  device: Device;
  impl?: 'ours' | 'tfjs';
  reason: string;
}

export interface PeerStatus {
  device: Device;
  loaded: boolean;
  /** Why it did not load, or what it cannot do (tfjs-wasm training). */
  note?: string;
}

export interface BenchResults {
  schema: 1;
  date: string;
  commit: string;
  command: string;
  node: string;
  quick: boolean;
  /** gemmThreads: the worker threads our CPU GEMM splits rows over. */
  machine: { cpuModel: string; cpus: number; gemmThreads: number; loadBefore: number; loadAfter: number };
  /** The WebGPU adapter; null when the run was CPU-only. */
  adapter: { name: string; software: boolean; note?: string } | null;
  /** The batch B of the kernel and throughput figures (training uses at least 2, noted per row). */
  batch: number;
  batchNote: string;
  sections: string[];
  notes: string[];
  tfjsVersion: string | null;
  peers: PeerStatus[];
  peak: PeakResult[];
  kernels: KernelResult[];
  models: ModelResult[];
  skipped: Skip[];
  /** 1-minute load average when each section started. */
  loads: Record<string, number>;
}
