// Convolution throughput, forward and both backward passes, in GFLOP/s (2·N·K·OH·OW·C·R·S per pass).
//   node --import ./src/cli/register.mjs bench/conv2d.ts [cpu|webgpu] [N,C,H,W,K,R,stride,padding ...]
// Default shapes: the seed model's widest layer, then the layers of a small FER model at batch 32.
import { tensor } from '../src/backend/create.ts';
import type { BackendName } from '../src/backend/tensor.ts';
import { initWebGpu, type WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import { timeCalls } from '../src/cli/timing.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dFlops, conv2dGeometry, type Padding } from '../src/ops/conv2d.ts';

const backend = (process.argv[2] ?? 'cpu') as BackendName;
const specs = process.argv.slice(3);
const shapes = (specs.length > 0 ? specs : ['8,256,46,46,256,3,1,same', '32,1,48,48,32,3,1,same', '32,32,48,48,64,3,1,same', '32,64,24,24,128,3,1,same', '32,128,12,12,256,3,1,same']).map(
  (s) => {
    const [N, C, H, W, K, R, stride, padding] = s.split(',');
    return { x: [N, C, H, W].map(Number), w: [Number(K), Number(C), Number(R), Number(R)], opts: { stride: Number(stride), padding: padding as Padding } };
  },
);
const gpu: WebGpuBackend | null = backend === 'webgpu' ? await initWebGpu() : null;
if (gpu) console.log(`device: ${gpu.info.name}`);

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Median seconds per call of `run` (src/cli/timing.ts: the warm-up call, which compiles pipelines, is not counted). */
async function time(run: () => { dispose(): void }): Promise<number> {
  const sync = gpu ? () => gpu.sync() : () => Promise.resolve();
  return (await timeCalls(() => run().dispose(), { repeat: 1, budgetSeconds: 2, sync })).ms / 1000;
}

for (const { x: xShape, w: wShape, opts } of shapes) {
  const g = conv2dGeometry(xShape, wShape, opts);
  const x = tensor(random(xShape.reduce((a, b) => a * b)), xShape, backend);
  const w = tensor(random(wShape.reduce((a, b) => a * b)), wShape, backend);
  const b = tensor(random(g.K), [g.K], backend);
  const dy = tensor(random(g.N * g.K * g.OH * g.OW), [g.N, g.K, g.OH, g.OW], backend);
  const flops = conv2dFlops(g);
  const rate = (s: number) => `${(flops / s / 1e9).toFixed(2).padStart(7)} GFLOP/s (${(s * 1000).toFixed(1)} ms)`;
  const fwd = await time(() => conv2d(x, w, b, opts));
  const bin = await time(() => conv2dBackwardInput(dy, w, xShape, opts));
  const bfi = await time(() => conv2dBackwardFilter(x, dy, wShape, opts));
  console.log(`${backend} x[${xShape}] w[${wShape}] stride ${opts.stride} ${opts.padding}: ${(flops / 1e9).toFixed(2)} GFLOP per pass`);
  console.log(`  forward          ${rate(fwd)}\n  backward input   ${rate(bin)}\n  backward filter  ${rate(bfi)}`);
  for (const t of [x, w, b, dy]) t.dispose();
}
gpu?.destroy();
