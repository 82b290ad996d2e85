// The GEMM core's tile shapes on this adapter: a 512³ matmul and the seed model's heaviest
// convolution (conv2d_1: 256 → 256 channels, 3×3, 46×46, 'same'), all three passes.
//   node --import ./src/cli/register.mjs bench/gemm.ts [matmul|conv|all] [batch]
// One warm-up call, then the median of at least three timed calls (src/cli/timing.ts).
import { tensor } from '../src/backend/create.ts';
import { initWebGpu } from '../src/backend/webgpu/backend.ts';
import { machineLoad, timeCalls } from '../src/cli/timing.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dFlops, conv2dGeometry } from '../src/ops/conv2d.ts';
import { gemmLabel, REGISTER_SCALAR_TILES, REGISTER_TALL_TILES, REGISTER_TILES, setGemmTiles, SHARED_TILES } from '../src/ops/gemm.ts';
import { matmul, matmulPath } from '../src/ops/matmul.ts';

const which = process.argv[2] ?? 'all';
const batch = Number(process.argv[3] ?? 1);
const gpu = await initWebGpu();
console.log(`device: ${gpu.info.name}${gpu.info.software ? ' (software)' : ''}; load ${machineLoad().toFixed(2)}; ${new Date().toISOString()}`);

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

const time = (call: () => void) => timeCalls(call, { repeat: 1, budgetSeconds: 3, sync: () => gpu.sync() });
const line = (what: string, variant: string, flops: number, ms: number, n: number) =>
  console.log(`${what.padEnd(34)} ${variant.padEnd(26)} ${ms.toFixed(0).padStart(8)} ms ${(flops / ms / 1e6).toFixed(3).padStart(7)} GFLOP/s  (${n} samples)`);

if (which === 'matmul' || which === 'all') {
  const n = 512;
  const a = tensor(random(n * n), [n, n], 'webgpu');
  const b = tensor(random(n * n), [n, n], 'webgpu');
  for (const tiles of [REGISTER_TILES, REGISTER_SCALAR_TILES, { ...REGISTER_TALL_TILES, vec4: false }, SHARED_TILES]) {
    setGemmTiles(tiles);
    const t = await time(() => matmul(a, b).dispose());
    line(`matmul ${n}×${n}×${n}`, matmulPath(gpu, n, n, n, {}), 2 * n ** 3, t.ms, t.samples.length);
  }
  a.dispose();
  b.dispose();
}

if (which === 'conv' || which === 'all') {
  const xShape = [batch, 256, 46, 46];
  const wShape = [256, 256, 3, 3];
  const opts = { stride: 1, padding: 'same' as const };
  const g = conv2dGeometry(xShape, wShape, opts);
  const x = tensor(random(g.N * g.C * g.H * g.W), xShape, 'webgpu');
  const w = tensor(random(wShape.reduce((p, q) => p * q)), wShape, 'webgpu');
  const bias = tensor(random(g.K), [g.K], 'webgpu');
  const dy = tensor(random(g.N * g.K * g.OH * g.OW), [g.N, g.K, g.OH, g.OW], 'webgpu');
  const flops = conv2dFlops(g);
  // Convolutions never take the vec4 core.
  for (const tiles of [REGISTER_TILES, REGISTER_TALL_TILES, SHARED_TILES]) {
    setGemmTiles(tiles);
    const what = `conv x[${xShape}] w[${wShape}]`;
    const f = await time(() => conv2d(x, w, bias, opts).dispose());
    line(`${what} fwd`, gemmLabel(tiles), flops, f.ms, f.samples.length);
    const bi = await time(() => conv2dBackwardInput(dy, w, xShape, opts).dispose());
    line(`${what} bwd-input`, gemmLabel(tiles), flops, bi.ms, bi.samples.length);
    const bf = await time(() => conv2dBackwardFilter(x, dy, wShape, opts).dispose());
    line(`${what} bwd-filter`, gemmLabel(tiles), flops, bf.ms, bf.samples.length);
  }
  for (const t of [x, w, bias, dy]) t.dispose();
}
setGemmTiles(null);
console.log(`load after: ${machineLoad().toFixed(2)}`);
gpu.destroy();
