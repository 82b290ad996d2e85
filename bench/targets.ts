// The "Targets" section of a run: whether the project's speed targets were met, stated only
// from the figures measured in that run, and how far the heavy kernels are from the peak.
import type { BenchResults, ModelMode } from './result-types.ts';

const times = (v: number) => `${v.toFixed(2)}×`;

/** ours vs tfjs on one device, seed model, each mode measured; or why it was not. */
function versus(r: BenchResults, modes: ModelMode[], ours: 'cpu' | 'webgpu', theirs: 'cpu' | 'webgpu', factor: number): string[] {
  const out: string[] = [];
  // At B = 1 the throughput row is the latency row.
  for (const mode of modes.filter((m) => !(m === 'inference' && r.batch === 1))) {
    const pair = r.models
      .filter((m) => m.model === 'seed' && m.mode === mode && m.impl === 'ours' && m.device === ours)
      .map((a) => [a, r.models.find((b) => b.model === 'seed' && b.mode === mode && b.batch === a.batch && b.impl === 'tfjs' && b.device === theirs)] as const)
      .find(([, b]) => b !== undefined);
    if (pair) {
      const [a, b] = pair;
      const speedup = b!.ms / a.ms;
      const met = speedup >= factor;
      out.push(
        `  - seed ${mode}, batch ${a.batch}: ours ${a.ms.toFixed(0)} ms, tfjs ${b!.ms.toFixed(0)} ms per call: ours is ${times(speedup)} as fast ` +
          `(ours/tfjs time ${(a.ms / b!.ms).toFixed(2)}): **${met ? 'met' : 'not met'}**` +
          (a.load !== undefined && b!.load !== undefined ? ` (load ${a.load.toFixed(1)} and ${b!.load.toFixed(1)})` : ''),
      );
    } else {
      const why = r.skipped.filter((s) => s.what.startsWith(`seed ${mode}`) && (s.device === ours || s.device === theirs)).map((s) => `${s.impl} ${s.device}: ${s.reason}`);
      out.push(`  - seed ${mode}: **not measured in this run**${why.length ? ` (${why.join('; ')})` : ''}`);
      const small = r.models.find((m) => m.model === 'small' && m.mode === mode && m.impl === 'ours' && m.device === ours);
      const peer = small && r.models.find((m) => m.model === 'small' && m.mode === mode && m.batch === small.batch && m.impl === 'tfjs' && m.device === theirs);
      if (small && peer) out.push(`    - the small model, measured instead, batch ${small.batch}: ours ${small.ms.toFixed(0)} ms, tfjs ${peer.ms.toFixed(0)} ms: ours is ${times(peer.ms / small.ms)} as fast (not the seed target)`);
    }
  }
  return out;
}

function heavyKernels(r: BenchResults): string[] {
  const compute = r.kernels.filter((k) => k.bound === 'compute');
  if (compute.length === 0) return ['- Heavy kernels: none measured in this run.'];
  const biggest = Math.max(...compute.map((k) => k.flops));
  // Heavy: at least 5% of the largest pass (conv2d_1, conv2d_2, conv2d_3 in the seed model).
  const heavy = compute.filter((k) => k.flops >= 0.05 * biggest);
  const out = [`- Heavy kernels (GEMM-shaped, at least 5% of the FLOPs of the largest one), batch ${r.batch}, as a fraction of the measured FMA peak${r.kernels.some((k) => k.peakBeside !== undefined) ? ' (timed beside each batch of calls)' : ''}:`];
  for (const k of heavy) {
    const beside = k.peakBeside !== undefined ? ` (peak beside it ${k.peakBeside.toFixed(3)})` : '';
    out.push(`  - ${k.kernel} ${k.layers.join(', ')} on ${k.backend}${k.variant ? ` (${k.variant})` : ''}: ${k.gflops.toFixed(3)} GFLOP/s${beside}, **${((k.peakFraction ?? 0) * 100).toFixed(1)}% of peak**`);
  }
  const skipped = r.skipped.filter((s) => s.what.startsWith('conv2d.') && heavy.some((k) => s.what.endsWith(k.shape)));
  for (const s of skipped) out.push(`  - ${s.what} on ${s.device}: not measured (${s.reason})`);
  const backends = new Set(heavy.map((k) => k.backend));
  if (backends.has('cpu')) {
    out.push(
      `  - Why, CPU: the peak is one thread's scalar multiply-add loop over a 4 KiB array that stays in L1 with one load per 8 multiply-adds. ` +
        `Our convolution is im2col (copies that count no FLOPs) and a TypeScript GEMM split by rows over ${r.machine.gemmThreads} worker thread(s); ` +
        `its inner loop loads operands from arrays that for conv2d_1 (an im2col matrix of 2304 × 2116 floats, 19.5 MB per image) are far larger than the caches. ` +
        `A share above 100% would mean the worker threads found a free core.`,
    );
  }
  const gpuHeavy = heavy.filter((k) => k.backend === 'webgpu');
  if (gpuHeavy.length > 0) {
    const atQuarter = gpuHeavy.filter((k) => (k.peakFraction ?? 0) >= 0.25).length;
    out.push(`  - WebGPU passes at or above 25% of the FMA peak: ${atQuarter} of ${gpuHeavy.length}.`);
    // The same rows against the one peak measured at the start of the run, for comparison with older tables.
    const startPeak = r.peak.find((p) => p.backend === 'webgpu');
    if (startPeak && gpuHeavy.some((k) => k.peakBeside !== undefined)) {
      const shares = gpuHeavy.map((k) => k.gflops / startPeak.gflops);
      out.push(
        `  - Against the peak measured once at the start of the run (${startPeak.gflops.toFixed(3)} GFLOP/s) instead: ` +
          `${shares.map((f) => `${(f * 100).toFixed(1)}%`).join(', ')}: ${shares.filter((f) => f >= 0.25).length} of ${gpuHeavy.length} at or above 25%.`,
      );
    }
    const direct = gpuHeavy.every((k) => k.variant?.startsWith('direct'));
    out.push(
      !r.adapter?.software
        ? `  - Why, ${r.adapter?.name ?? 'GPU'}: not analysed for this adapter yet; the fractions above are the measurement.`
        : direct
          ? `  - Why, ${r.adapter.name}: the peak kernel does 8 independent vec4 FMAs per step with no memory access. The convolutions run the direct kernels ` +
            `(shaders/conv2d_direct.wgsl, conv2d_filter_direct.wgsl; blocks named above): SwiftShader runs 4 invocations as the lanes of one SIMD register and ` +
            `turns every read at a computed index into a 4-lane gather, so the kernels read as little as their register block allows (16 channels × 24 pixels: ` +
            `0.06 reads per multiply-add; 8 filters × 12 weights for the filter gradient: 0.21), from a zero-padded copy of their input (no edge test in the loop), ` +
            `and their 24–96 vec4 accumulators spill to the stack. bench/NOTES.md has the measurements.`
          : `  - Why, ${r.adapter.name}: the peak kernel does 8 independent vec4 FMAs per step with no memory access. The convolutions are implicit GEMMs ` +
            `(shaders/conv2d*.wgsl on the gemm.wgsl core): per step of k each invocation makes 10 scalar loads for 16 multiply-adds, ` +
            `and loadB gathers each image pixel with six integer divisions that SwiftShader cannot vectorise.`,
    );
  }
  return out;
}

export function targetsMarkdown(r: BenchResults): string[] {
  const out = ['### Targets', ''];
  if (r.models.length > 0) {
    const gpuModes: ModelMode[] = ['latency', 'inference', 'train'];
    out.push(`- Our WebGPU path faster than tfjs-webgpu on the seed model on this adapter (${r.adapter?.name ?? 'none'}):`);
    out.push(...(r.adapter ? versus(r, gpuModes, 'webgpu', 'webgpu', 1) : ['  - no WebGPU adapter in this run']));
    out.push(`- Our CPU path at least 3× as fast as tfjs's \`cpu\` backend on seed-model inference:`);
    out.push(...versus(r, ['latency', 'inference'], 'cpu', 'cpu', 3));
    const ours = r.models.find((m) => m.model === 'seed' && m.mode === 'latency' && m.impl === 'ours' && m.device === 'cpu');
    const wasm = r.models.find((m) => m.model === 'seed' && m.mode === 'latency' && m.impl === 'tfjs' && m.device === 'wasm');
    if (ours && wasm) {
      const faster = ours.ms / wasm.ms;
      out.push(
        `- Not a target, for the record: tfjs's \`wasm\` backend (${r.peers.find((p) => p.device === 'wasm')?.note ?? 'XNNPACK'}) runs seed inference at batch 1 in ` +
          `${wasm.ms.toFixed(0)} ms against our CPU path's ${ours.ms.toFixed(0)} ms: ${faster >= 1 ? `${faster.toFixed(1)}× faster than ours` : `${(1 / faster).toFixed(1)}× slower than ours`} (SIMD convolutions compiled ahead of time, against our scalar TypeScript).`,
      );
    }
  }
  out.push(...heavyKernels(r));
  if (!r.adapter || r.adapter.software) {
    out.push(
      '- Real GPU (H100, PyTorch beside it): not run; no hardware GPU was lent to this session. On one, `npm run bench` detects the adapter, ' +
        'defaults to batch 64 and writes bench/results/<adapter>.json beside this one.',
    );
  }
  return out;
}
