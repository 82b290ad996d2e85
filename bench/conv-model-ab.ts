// A whole model on WebGPU with its convolutions on two kernel choices, calls alternating (one sync
// each): what a kernel change is worth per forward pass or training step. The choices: 'table'
// (this adapter's own choice per layer: on a software adapter softwareDirectChoice, 16×24 or 16×12
// for the forward and input gradient, 8×12 for the filter gradient), 'direct<TM>x<TN>' for each
// of DIRECT_BLOCKS (every layer pinned to that block: direct8x4 … direct16x24), 'gemm' (the GEMM
// core's 8×2 register tiles, what software adapters ran before the direct kernels).
//   node --import ./src/cli/register.mjs bench/conv-model-ab.ts [seed|small] [forward|train] [rounds] [choice choice]
import { loadavg } from 'node:os';
import { setDefaultBackend } from '../src/backend/backends.ts';
import { tensor } from '../src/backend/create.ts';
import { Random } from '../src/backend/random.ts';
import { scope } from '../src/backend/scope.ts';
import { initWebGpu } from '../src/backend/webgpu/backend.ts';
import { median } from '../src/cli/timing.ts';
import { createModel } from '../src/nn/models.ts';
import { DIRECT_BLOCKS, setConvKernel, type ConvKernelChoice } from '../src/ops/conv2d-webgpu.ts';
import { REGISTER_TALL_TILES } from '../src/ops/gemm.ts';
import { softmaxCrossEntropy } from '../src/ops/softmax-cross-entropy.ts';
import { Optimizer } from '../src/train/optimizer.ts';

const [name = 'seed', mode = 'forward', roundsArg = '2', first = 'table', second = 'direct8x4'] = process.argv.slice(2);
const CHOICES: Record<string, ConvKernelChoice | null> = {
  table: null,
  ...Object.fromEntries(DIRECT_BLOCKS.map((b) => [`direct${b.TM}x${b.TN}`, b])),
  gemm: { family: 'gemm', tiles: REGISTER_TALL_TILES },
};
for (const c of [first, second]) {
  if (!(c in CHOICES)) {
    console.error(`conv-model-ab: unknown choice "${c}" (choose from ${Object.keys(CHOICES).join(', ')})`);
    process.exit(1);
  }
}
const rounds = Number(roundsArg);
const gpu = await initWebGpu();
setDefaultBackend('webgpu');
console.log(`adapter: ${gpu.info.name}; ${name} ${mode}; load ${loadavg()[0].toFixed(2)}`);
const batch = mode === 'train' ? 2 : 1;
const model = createModel(name);
model.build(new Random(1), 'webgpu');
const rng = new Random(2);
const x = tensor(Float32Array.from({ length: batch * 48 * 48 }, () => rng.next()), [batch, 1, 48, 48], 'webgpu');
const labels = tensor(Float32Array.from({ length: batch }, () => rng.int(7)), [batch], 'webgpu');
const opt = new Optimizer({ kind: 'adam', lr: 1e-3, momentum: 0, nesterov: false, weightDecay: 0 });
const call = () =>
  scope(() => {
    if (mode !== 'train') return void model.forward(x, { training: false });
    const logits = model.forward(x, { training: true, rng });
    model.backward(softmaxCrossEntropy(logits, labels).dlogits);
    opt.apply(model.params());
  });
const kinds: [string, ConvKernelChoice | null][] = [[first, CHOICES[first]], [second, CHOICES[second]]];
const ms: number[][] = [[], []];
for (let r = -1; r < rounds; r++) {
  for (const [i, [, c]] of kinds.entries()) {
    setConvKernel(c);
    const t0 = performance.now();
    call();
    await gpu.sync();
    if (r >= 0) ms[i].push(performance.now() - t0);
  }
}
setConvKernel(null);
const ratio = median(ms[1].map((t, r) => t / ms[0][r]));
console.log(`${name} ${mode} batch ${batch}: ${first} ${median(ms[0]).toFixed(0)} ms, ${second} ${median(ms[1]).toFixed(0)} ms; ${second}/${first} per round ${ratio.toFixed(3)} (rounds: ${ms[0].map((t, r) => (ms[1][r] / t).toFixed(3)).join(', ')}); load ${loadavg()[0].toFixed(2)}`);
gpu.destroy();
