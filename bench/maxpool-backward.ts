// Max-pool backward on WebGPU: the per-input kernel (every input re-scans its window) against the
// per-window kernel (backward_tiles) at the seed model's pooling shapes, alternating call by call
// (one sync each) and checked equal first; prints medians and the median per-round ratio.
//   node --import ./src/cli/register.mjs bench/maxpool-backward.ts [--rounds N]
import { loadavg } from 'node:os';
import { empty, tensor } from '../src/backend/create.ts';
import { initWebGpu } from '../src/backend/webgpu/backend.ts';
import { median } from '../src/cli/timing.ts';
import { maxPool2dBackwardGpu, pool2dGeometry } from '../src/ops/maxpool2d.ts';

const i = process.argv.indexOf('--rounds');
const rounds = i > 0 ? Number(process.argv[i + 1]) : 7;
const gpu = await initWebGpu();
console.log(`adapter: ${gpu.info.name}; load ${loadavg()[0].toFixed(2)}`);
for (const shape of [[1, 256, 46, 46], [1, 128, 23, 23]]) {
  const g = pool2dGeometry(shape, { size: 2, stride: 2, padding: 'valid' });
  const n = shape.reduce((a, b) => a * b);
  const x = tensor(Float32Array.from({ length: n }, () => Math.random()), shape, 'webgpu');
  const dy = tensor(Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, () => Math.random()), [g.N, g.C, g.OH, g.OW], 'webgpu');
  const run = (perInput: boolean) => {
    const dx = empty(shape, 'webgpu');
    maxPool2dBackwardGpu(g, x, dy, dx, 65535, perInput);
    return dx;
  };
  const a = run(true);
  const b = run(false);
  const [va, vb] = [await a.read(), await b.read()];
  if (va.some((v, j) => v !== vb[j])) throw new Error('the two kernels disagree');
  a.dispose();
  b.dispose();
  const ms: [number[], number[]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    for (const k of [0, 1]) {
      const t0 = performance.now();
      run(k === 0).dispose();
      await gpu.sync();
      ms[k].push(performance.now() - t0);
    }
  }
  const ratio = median(ms[1].map((t, r) => t / ms[0][r]));
  console.log(`maxpool2d.backward [${shape}] 2×2/2: per-input ${median(ms[0]).toFixed(1)} ms, per-window ${median(ms[1]).toFixed(1)} ms; per-window/per-input ${ratio.toFixed(3)} (median of ${rounds} rounds)`);
  x.dispose();
  dy.dispose();
}
console.log(`load ${loadavg()[0].toFixed(2)}`);
gpu.destroy();
