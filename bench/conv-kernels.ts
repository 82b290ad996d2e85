// The convolution kernels side by side on one adapter: every candidate of src/ops/conv2d-webgpu.ts
// (direct 4×4 and 8×4, the GEMM core's register and shared tiles) for each pass, calls
// alternating between candidates (round robin, one sync per call) so that a load that moves
// during the run moves all of them alike; prints medians and each candidate's median ratio to
// the first. Checks each against the CPU specification first (normwise relative error).
//   node --import ./src/cli/register.mjs bench/conv-kernels.ts [--rounds N] [--passes forward,backward-input,backward-filter] [N,C,H,W,K,R,stride,padding ...]
import { loadavg } from 'node:os';
import { tensor } from '../src/backend/create.ts';
import type { Tensor } from '../src/backend/tensor.ts';
import { initWebGpu } from '../src/backend/webgpu/backend.ts';
import { median } from '../src/cli/timing.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dFlops, conv2dGeometry, type Padding } from '../src/ops/conv2d.ts';
import { choiceLabel, convCandidates, setConvKernel, type ConvPass } from '../src/ops/conv2d-webgpu.ts';
import { REGISTER_TALL_TILES, REGISTER_TILES, SHARED_TILES } from '../src/ops/gemm.ts';
import { grid1d, packParams, u32, f32 } from '../src/backend/webgpu/kernel.ts';
import { empty } from '../src/backend/create.ts';
import peakWgsl from './shaders/peak.wgsl';
import { gpuPeak } from './peak.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const rounds = Number(flag('--rounds') ?? 5);
const passes = (flag('--passes') ?? 'forward,backward-input,backward-filter').split(',') as ConvPass[];
const gemmCands = (flag('--gemm') ?? 'tall,shared').split(',').map((n) => ({ tall: REGISTER_TALL_TILES, square: REGISTER_TILES, shared: SHARED_TILES })[n as 'tall']);
const shapes = (args.length > 0 ? args : ['1,128,23,23,128,3,1,same']).map((s) => {
  const [N, C, H, W, K, R, stride, padding] = s.split(',');
  return { x: [N, C, H, W].map(Number), w: [Number(K), Number(C), Number(R), Number(R)], opts: { stride: Number(stride), padding: padding as Padding } };
});

const gpu = await initWebGpu();
console.log(`adapter: ${gpu.info.name}; load ${loadavg()[0].toFixed(2)}`);
// The adapter's FMA peak (bench/peak.ts), measured before and after the convolutions: the
// fractions below use the mean of the two.
const peaks = [(await gpuPeak(gpu, 2)).gflops];
console.log(`FMA peak before: ${peaks[0].toFixed(3)} GFLOP/s`);
const fractions: string[] = [];
// And one call of the same FMA kernel in every round (bench/peak.ts's sizes for a software
// adapter): each candidate's per-round time against it gives its fraction of the peak under the
// load of that round.
const PEAK_INV = 1 << 15;
const PEAK_ITER = 256;
const PEAK_FLOPS = PEAK_INV * PEAK_ITER * 8 * 4 * 2;
const peakSums = empty([PEAK_INV * 4], 'webgpu');
const peakCall = () =>
  gpu.run({ key: 'bench.peak.fma', code: peakWgsl, entry: 'fma_peak', bindings: ['write'] }, [peakSums],
    packParams([u32(PEAK_INV), u32(PEAK_ITER), f32(0.9990234375), f32(0.0009765625)]), grid1d(PEAK_INV, 64));

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function relError(got: Float32Array, want: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < want.length; i++) {
    d += (got[i] - want[i]) ** 2;
    s += want[i] ** 2;
  }
  return Math.sqrt(d / Math.max(s, 1e-30));
}

for (const { x: xShape, w: wShape, opts } of shapes) {
  const g = conv2dGeometry(xShape, wShape, opts);
  const xs = random(xShape.reduce((a, b) => a * b));
  const ws = random(wShape.reduce((a, b) => a * b));
  const bs = random(g.K);
  const dys = random(g.N * g.K * g.OH * g.OW);
  const on = (be: 'cpu' | 'webgpu') => ({
    x: tensor(xs, xShape, be), w: tensor(ws, wShape, be), b: tensor(bs, [g.K], be), dy: tensor(dys, [g.N, g.K, g.OH, g.OW], be),
  });
  const cpu = on('cpu');
  const dev = on('webgpu');
  const call = (pass: ConvPass, t: { x: Tensor; w: Tensor; b: Tensor; dy: Tensor }): Tensor =>
    pass === 'forward'
      ? conv2d(t.x, t.w, t.b, { ...opts, relu: true })
      : pass === 'backward-input'
        ? conv2dBackwardInput(t.dy, t.w, xShape, opts)
        : conv2dBackwardFilter(t.x, t.dy, wShape, opts);
  const flops = conv2dFlops(g);
  console.log(`x[${xShape}] w[${wShape}] stride ${opts.stride} ${opts.padding}: ${(flops / 1e9).toFixed(3)} GFLOP per pass`);
  for (const pass of passes) {
    const want = await call(pass, cpu).read();
    const cands = convCandidates(pass, g, gemmCands, gpu.limits.maxStorageBufferBindingSize);
    const samples: number[][] = cands.map(() => []);
    for (const [i, c] of cands.entries()) {
      setConvKernel(c);
      const out = call(pass, dev);
      const err = relError(await out.read(), want);
      out.dispose();
      if (!(err < 1e-4)) throw new Error(`${pass} ${choiceLabel(c)}: relative error ${err}`);
      samples[i].length = 0;
    }
    const peakMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const p0 = performance.now();
      peakCall();
      await gpu.sync();
      peakMs.push(performance.now() - p0);
      for (const [i, c] of cands.entries()) {
        setConvKernel(c);
        const t0 = performance.now();
        call(pass, dev).dispose();
        await gpu.sync();
        samples[i].push(performance.now() - t0);
      }
    }
    setConvKernel(null);
    for (const [i, c] of cands.entries()) fractions.push(`${pass} ${choiceLabel(c)} x[${xShape}] w[${wShape}]: ${(flops / median(samples[i]) / 1e6).toFixed(3)} GFLOP/s`);
    const base = median(samples[0]);
    console.log(`  ${pass.padEnd(16)} FMA peak kernel        ${median(peakMs).toFixed(1).padStart(9)} ms ${(PEAK_FLOPS / median(peakMs) / 1e6).toFixed(3).padStart(7)} GFLOP/s`);
    for (const [i, c] of cands.entries()) {
      const ratios = samples[i].map((s, r) => s / samples[0][r]);
      const ofPeak = samples[i].map((s, r) => (flops / s) / (PEAK_FLOPS / peakMs[r]));
      console.log(`  ${pass.padEnd(16)} ${choiceLabel(c).padEnd(22)} fraction of the FMA peak timed in the same round: median ${(median(ofPeak) * 100).toFixed(1)}% (rounds: ${ofPeak.map((f) => (f * 100).toFixed(1)).join(', ')})`);
      const ms = median(samples[i]);
      console.log(
        `  ${pass.padEnd(16)} ${choiceLabel(c).padEnd(22)} ${ms.toFixed(1).padStart(9)} ms ${(flops / ms / 1e6).toFixed(3).padStart(7)} GFLOP/s  ` +
          `time/${choiceLabel(cands[0])} ${median(ratios).toFixed(3)} (per-round median; ${(ms / base).toFixed(3)} of medians)`,
      );
    }
  }
  for (const t of [cpu, dev]) for (const v of Object.values(t)) v.dispose();
}
peaks.push((await gpuPeak(gpu, 2)).gflops);
const peak = (peaks[0] + peaks[1]) / 2;
console.log(`FMA peak after: ${peaks[1].toFixed(3)} GFLOP/s; fractions of their mean, ${peak.toFixed(3)} GFLOP/s:`);
for (const f of fractions) console.log(`  ${f} = ${((Number(f.split(': ')[1].split(' ')[0]) / peak) * 100).toFixed(1)}% of peak`);
console.log(`load ${loadavg()[0].toFixed(2)}`);
gpu.destroy();
