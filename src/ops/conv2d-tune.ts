import { tensor } from '../backend/create.ts';
import type { Tensor } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dGeometry, type Conv2dOptions } from './conv2d.ts';
import {
  choiceLabel, convCandidates, convKernel, rememberConvKernel, setConvKernel, tunedConvKernel, type ConvKernelChoice, type ConvPass,
} from './conv2d-webgpu.ts';
import { REGISTER_TALL_TILES, REGISTER_TILES, SHARED_TILES } from './gemm.ts';

// Autotuning the convolution kernels on an adapter we have no table for: at first use, each
// candidate of conv2d-webgpu.ts runs once at the layer's own shape (compiling its pipeline), then
// `rounds` more times in turn, one sync per call; the fastest median wins and is remembered for
// this adapter and shape. On a software adapter (SwiftShader, where one heavy call takes seconds)
// the table answers instead and nothing is timed. A second call for a shape already tuned costs
// nothing.

export interface ConvShape {
  x: readonly number[];
  w: readonly number[];
  opts?: Conv2dOptions;
}

export interface TuneResult {
  shape: string;
  pass: ConvPass;
  chosen: string;
  /** Median ms per call of each candidate, by label. */
  ms: Record<string, number>;
}

const PASSES: ConvPass[] = ['forward', 'backward-input', 'backward-filter'];

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Times every candidate for the passes of each shape and remembers the fastest (see the header).
 * `force` tunes a software adapter too (tests, and to check the table). Returns what it measured.
 */
export async function autotuneConv(
  gpu: WebGpuBackend, shapes: readonly ConvShape[], o: { passes?: ConvPass[]; rounds?: number; force?: boolean } = {},
): Promise<TuneResult[]> {
  if (gpu.info.software && !o.force) return [];
  const rounds = o.rounds ?? 3;
  const results: TuneResult[] = [];
  const gemm = [REGISTER_TALL_TILES, REGISTER_TILES, SHARED_TILES];
  for (const { x: xShape, w: wShape, opts = {} } of shapes) {
    const g = conv2dGeometry([...xShape], [...wShape], opts);
    const make = (shape: number[], seed: number): Tensor => tensor(fill(shape.reduce((a, b) => a * b), seed), shape, 'webgpu');
    const x = make([...xShape], 1);
    const w = make([...wShape], 2);
    const dy = make([g.N, g.K, g.OH, g.OW], 3);
    try {
      for (const pass of o.passes ?? PASSES) {
        if (tunedConvKernel(gpu, pass, g)) continue;
        const call = (): Tensor =>
          pass === 'forward'
            ? conv2d(x, w, null, { ...opts, relu: true })
            : pass === 'backward-input'
              ? conv2dBackwardInput(dy, w, [...xShape], opts)
              : conv2dBackwardFilter(x, dy, [...wShape], opts);
        const cands = convCandidates(pass, g, gemm, gpu.limits.maxStorageBufferBindingSize);
        const samples = cands.map((): number[] => []);
        try {
          for (let r = -1; r < rounds; r++) {
            for (const [i, c] of cands.entries()) {
              setConvKernel(c);
              const t0 = performance.now();
              call().dispose();
              await gpu.sync();
              if (r >= 0) samples[i].push(performance.now() - t0);
            }
          }
        } finally {
          setConvKernel(null);
        }
        const ms = samples.map(median);
        const best: ConvKernelChoice = cands[ms.indexOf(Math.min(...ms))];
        rememberConvKernel(gpu, pass, g, best);
        results.push({
          shape: `x[${xShape}] w[${wShape}] stride ${opts.stride ?? 1} ${opts.padding ?? 'valid'}`, pass, chosen: choiceLabel(convKernel(gpu, pass, g)),
          ms: Object.fromEntries(cands.map((c, i) => [choiceLabel(c), ms[i]])),
        });
      }
    } finally {
      for (const t of [x, w, dy]) t.dispose();
    }
  }
  return results;
}

/** The pass a kernel-plan row (`conv2d.forward`, …) times, tuned at its shape; rows that are not convolutions are left alone. */
export async function autotuneKernelUse(gpu: WebGpuBackend, use: { kernel: string; conv?: ConvShape }): Promise<TuneResult[]> {
  const pass = use.kernel.replace(/^conv2d\./, '') as ConvPass;
  if (!use.conv || !PASSES.includes(pass)) return [];
  return autotuneConv(gpu, [use.conv], { passes: [pass] });
}
