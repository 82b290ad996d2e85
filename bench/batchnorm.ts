// Batch normalization and max pooling on the GPU: milliseconds per call, and the per-channel
// reductions' workgroup size (32 to 256 invocations per channel).
//   node --import ./src/cli/register.mjs bench/batchnorm.ts [batch] [N,C,H,W ...]
// Default shapes: the seed model's batch-norm inputs (46², 23², 11² images, a dense layer) and
// the small model's first one. `infer` is the elementwise pass alone, so train − infer is the
// statistics kernel and backward is one reduction plus one elementwise pass. Where S = H·W is a
// multiple of 4, the scalar kernels are also timed against the vec4 ones (stats, apply,
// backward_reduce, backward_dx against stats4, apply4, …), calls alternating over 5 rounds.
import { empty, tensor } from '../src/backend/create.ts';
import type { Shape } from '../src/backend/tensor.ts';
import { initWebGpu } from '../src/backend/webgpu/backend.ts';
import { median, timeCalls } from '../src/cli/timing.ts';
import { batchNormBackwardGpu, batchNormInfer, batchNormInferGpu, batchNormTrainGpu, batchNormVec4, batchNormWorkgroup } from '../src/ops/batchnorm.ts';
import { maxPool2d, maxPool2dBackward } from '../src/ops/maxpool2d.ts';

const batch = Number(process.argv[2] ?? 8);
const specs = process.argv.slice(3);
const shapes: Shape[] = (specs.length > 0 ? specs : [`${batch},256,46,46`, `${batch},128,23,23`, `${batch},64,11,11`, `${batch},512`, `${batch},32,48,48`]).map((s) =>
  s.split(',').map(Number),
);
const gpu = await initWebGpu();
console.log(`device: ${gpu.info.name}`);

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Median milliseconds per call of `run` (src/cli/timing.ts: the warm-up call, which compiles pipelines, is not counted). */
async function time(run: () => void): Promise<number> {
  return (await timeCalls(run, { repeat: 1, budgetSeconds: 2, sync: () => gpu.sync() })).ms;
}

const ms = (v: number) => `${v.toFixed(2).padStart(8)} ms`;

for (const shape of shapes) {
  const [N, C] = shape;
  const S = shape.length === 4 ? shape[2] * shape[3] : 1;
  const g = { N, C, S, M: N * S };
  const size = N * C * S;
  const x = tensor(random(size), shape, 'webgpu');
  const dy = tensor(random(size), shape, 'webgpu');
  const per = () => tensor(random(C).map((v) => v + 1.5), [C], 'webgpu');
  const [gamma, beta, rm, rv] = [per(), per(), per(), per()];
  const o = { eps: 1e-3, momentum: 0.99 };
  console.log(`batchnorm x[${shape}] (M = ${g.M} per channel, ${(size * 4 / 2 ** 20).toFixed(1)} MiB)`);
  const infer = await time(() => batchNormInfer(x, gamma, beta, rm, rv, o).dispose());
  console.log(`  infer (elementwise only)  ${ms(infer)}`);
  for (const wg of [32, 64, 128, 256]) {
    const train = await time(() => {
      const [y, mean, invStd] = [empty(shape, 'webgpu'), empty([C], 'webgpu'), empty([C], 'webgpu')];
      batchNormTrainGpu(g, x, gamma, beta, rm, rv, o, y, mean, invStd, wg);
      for (const t of [y, mean, invStd]) t.dispose();
    });
    const back = await time(() => {
      const [dx, dgamma, dbeta] = [empty(shape, 'webgpu'), empty([C], 'webgpu'), empty([C], 'webgpu')];
      batchNormBackwardGpu(g, x, dy, gamma, rm, rv, dx, dgamma, dbeta, wg);
      for (const t of [dx, dgamma, dbeta]) t.dispose();
    });
    console.log(`  WG ${String(wg).padStart(3)}: train ${ms(train)} (statistics ${ms(train - infer)}), backward ${ms(back)}`);
  }
  if (batchNormVec4(g)) {
    const wg = batchNormWorkgroup(gpu.info.software, g.M);
    const infer = (vec4: boolean) => time(() => {
      const y = empty(shape, 'webgpu');
      batchNormInferGpu(g, x, gamma, beta, rm, rv, o.eps, y, vec4);
      y.dispose();
    });
    const train = (vec4: boolean) => time(() => {
      const [y, mean, invStd] = [empty(shape, 'webgpu'), empty([C], 'webgpu'), empty([C], 'webgpu')];
      batchNormTrainGpu(g, x, gamma, beta, rm, rv, o, y, mean, invStd, wg, vec4);
      for (const t of [y, mean, invStd]) t.dispose();
    });
    const back = (vec4: boolean) => time(() => {
      const [dx, dgamma, dbeta] = [empty(shape, 'webgpu'), empty([C], 'webgpu'), empty([C], 'webgpu')];
      batchNormBackwardGpu(g, x, dy, gamma, rm, rv, dx, dgamma, dbeta, wg, vec4);
      for (const t of [dx, dgamma, dbeta]) t.dispose();
    });
    const passes = { infer, train, back };
    const runs = new Map<string, number[]>();
    for (let round = 0; round < 5; round++) {
      for (const [name, pass] of Object.entries(passes)) {
        for (const vec4 of [false, true]) {
          const key = `${name} ${vec4 ? 'vec4' : 'scalar'}`;
          runs.set(key, [...(runs.get(key) ?? []), await pass(vec4)]);
        }
      }
    }
    const med = (key: string) => median(runs.get(key)!);
    const gbs = (bytes: number, msv: number) => `${(bytes / msv / 1e6).toFixed(3)} GB/s`;
    console.log(`  scalar against vec4 kernels (WG ${wg}), median of 5 alternating rounds:`);
    const [is, iv] = [med('infer scalar'), med('infer vec4')];
    console.log(`    infer (apply)               ${ms(is)} → ${ms(iv)}, ${(is / iv).toFixed(2)}× (${gbs(size * 8, is)} → ${gbs(size * 8, iv)})`);
    const [ts, tv] = [med('train scalar'), med('train vec4')];
    console.log(`    train (stats + apply)       ${ms(ts)} → ${ms(tv)}, ${(ts / tv).toFixed(2)}×`);
    const [bs, bv] = [med('back scalar'), med('back vec4')];
    console.log(`    backward (reduce + dx)      ${ms(bs)} → ${ms(bv)}, ${(bs / bv).toFixed(2)}×`);
  }
  if (shape.length === 4) {
    const y = maxPool2d(x);
    const dyPool = tensor(random(y.size), y.shape, 'webgpu');
    const fwd = await time(() => maxPool2d(x).dispose());
    const bwd = await time(() => maxPool2dBackward(x, dyPool).dispose());
    console.log(`maxpool 2×2/2 x[${shape}]: forward ${ms(fwd)}, backward ${ms(bwd)}`);
    y.dispose();
    dyPool.dispose();
  }
  for (const t of [x, dy, gamma, beta, rm, rv]) t.dispose();
}
gpu.destroy();
