// Max pooling on WebGPU, kernel against kernel at the seed and small models' 2×2/2 pooling shapes:
// the backward pass per input element (every input re-scans its window), per window
// (backward_tiles) and written out for 2×2 at stride 2 (backward2x2), and the forward pass general
// (forward) against written out (forward2x2). Every kernel is checked equal to the first of its
// pass, then the calls alternate (one sync each); prints medians and the median per-round ratio.
//   node --import ./src/cli/register.mjs bench/maxpool-backward.ts [--rounds N] [N,C,H,W ...]
import { loadavg } from 'node:os';
import { empty, tensor } from '../src/backend/create.ts';
import type { Tensor } from '../src/backend/tensor.ts';
import { initWebGpu } from '../src/backend/webgpu/backend.ts';
import { median } from '../src/cli/timing.ts';
import { maxPool2dBackwardGpu, maxPool2dGpu, maxPoolPath, pool2dGeometry, type MaxPoolPath } from '../src/ops/maxpool2d.ts';

const args = process.argv.slice(2);
const i = args.indexOf('--rounds');
const rounds = i >= 0 ? Number(args[i + 1]) : 7;
const specs = args.filter((a, k) => a !== '--rounds' && (i < 0 || k !== i + 1));
const shapes = (specs.length > 0 ? specs : ['1,256,46,46', '1,128,23,23', '8,32,48,48']).map((s) => s.split(',').map(Number));
const gpu = await initWebGpu();
console.log(`adapter: ${gpu.info.name}; load ${loadavg()[0].toFixed(2)}`);

/** Times each of `runs` alternating over the rounds, after checking that all give the first's result. */
async function compare(what: string, runs: [string, () => Tensor][]): Promise<void> {
  const results: Float32Array[] = [];
  for (const [, run] of runs) {
    const t = run();
    results.push(await t.read());
    t.dispose();
  }
  for (let k = 1; k < runs.length; k++) {
    if (results[k].some((v, j) => v !== results[0][j])) throw new Error(`${what}: ${runs[k][0]} disagrees with ${runs[0][0]}`);
  }
  const ms: number[][] = runs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const t0 = performance.now();
      runs[k][1]().dispose();
      await gpu.sync();
      ms[k].push(performance.now() - t0);
    }
  }
  const last = runs.length - 1;
  const cols = runs.map(([name], k) => `${name} ${median(ms[k]).toFixed(2)} ms`).join(', ');
  const ratios = runs.slice(0, last).map(([name], k) => `${runs[last][0]}/${name} ${median(ms[last].map((t, r) => t / ms[k][r])).toFixed(3)}`).join(', ');
  console.log(`${what}: ${cols}; ${ratios} (median of ${rounds} rounds)`);
}

for (const shape of shapes) {
  const g = pool2dGeometry(shape, { size: 2, stride: 2, padding: 'valid' });
  const n = shape.reduce((a, b) => a * b);
  const yShape = [g.N, g.C, g.OH, g.OW];
  const x = tensor(Float32Array.from({ length: n }, () => Math.random()), shape, 'webgpu');
  const dy = tensor(Float32Array.from({ length: g.N * g.C * g.OH * g.OW }, () => Math.random()), yShape, 'webgpu');
  const forward = (path: MaxPoolPath) => (): Tensor => {
    const y = empty(yShape, 'webgpu');
    maxPool2dGpu(g, x, y, 65535, path);
    return y;
  };
  const backward = (path: MaxPoolPath) => (): Tensor => {
    const dx = empty(shape, 'webgpu');
    maxPool2dBackwardGpu(g, x, dy, dx, 65535, path);
    return dx;
  };
  const written = maxPoolPath(g) === '2x2';
  await compare(`maxpool2d.forward [${shape}] 2×2/2`, [['general', forward('tiles')], ...(written ? [['2x2', forward('2x2')] as [string, () => Tensor]] : [])]);
  await compare(`maxpool2d.backward [${shape}] 2×2/2`, [
    ['per-input', backward('per-input')],
    ['per-window', backward('tiles')],
    ...(written ? [['2x2', backward('2x2')] as [string, () => Tensor]] : []),
  ]);
  x.dispose();
  dy.dispose();
}
console.log(`load ${loadavg()[0].toFixed(2)}`);
gpu.destroy();
