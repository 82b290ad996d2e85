import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { Random } from '../../src/backend/random.ts';
import { keep, scope } from '../../src/backend/scope.ts';
import type { BackendName, Tensor } from '../../src/backend/tensor.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import { createModel } from '../../src/nn/models.ts';
import { MaxPool2D } from '../../src/nn/pooling.ts';
import { ReLU } from '../../src/nn/activation.ts';
import { pool2dGeometry, windowArgmax } from '../../src/ops/maxpool2d.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { assembleBatch } from '../../src/data/batches.ts';
import { Optimizer, type OptimizerConfig } from '../../src/train/optimizer.ts';
import { softmaxCrossEntropy, softmaxCrossEntropyRef } from '../../src/ops/softmax-cross-entropy.ts';
import { expectClose, GPU_TOLERANCE, relativeError } from '../support/compare.ts';
import { toF64 } from '../support/gradcheck.ts';
import { gpu } from '../support/gpu.ts';
import { wasm } from '../support/wasm.ts';
import { SLOW } from '../support/requires.ts';
import { randomArray, randomInt } from '../support/random.ts';
import { float64Backward, float64Forward, type Float64Pass } from './float64-net.ts';
import { drawInput, float64Params, randomizeParams, setParamValue } from './layer-gradcheck.ts';

/** Every layer type, odd sizes, batch norm in both layouts. */
function tinyModel(): Sequential {
  return new Sequential(
    'tiny',
    [
      new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new BatchNorm(),
      new MaxPool2D({ size: 2 }),
      new Conv2D({ filters: 3, kernelSize: 3, activation: 'relu' }),
      new Flatten(),
      new Dropout(0.3),
      new Dense({ units: 8, activation: 'relu' }),
      new BatchNorm({ momentum: 0.9 }),
      new Dense({ units: 7 }),
    ],
    [2, 9, 9],
    ['0', '1', '2', '3', '4', '5', '6'],
  );
}

/** The same network, with the same (randomised) parameters, on the CPU and on `target` (the `other`). */
async function twins(make: () => Sequential, target: BackendName = 'webgpu'): Promise<{ cpu: Sequential; other: Sequential; webgpu: Sequential }> {
  const cpu = make().build(new Random(randomInt(0, 2 ** 31)), 'cpu');
  randomizeParams(cpu.layers);
  const webgpu = make().build(new Random(0), 'cpu');
  const source = new Map(cpu.params().map((p) => [p.name, p.value]));
  for (const p of webgpu.params()) setParamValue(p, await source.get(p.name)!.read());
  await webgpu.moveTo(target);
  return { cpu, other: webgpu, webgpu };
}

interface StepResult {
  logits: Float32Array;
  loss: number;
  dlogits: Float32Array;
  grads: Map<string, Float32Array>;
  /** Every parameter after the optimizer's update (running statistics included). */
  after: Map<string, Float32Array>;
  state: Map<string, Float32Array>;
}

/** One training step as the trainer takes it; reads back everything it produced. */
async function trainStep(model: Sequential, optimizer: Optimizer, x: Float32Array, y: Float32Array, dropSeed: number): Promise<StepResult> {
  const b = model.backend;
  const N = y.length;
  const out = scope(() => {
    const logits = model.forward(tensor(x, [N, ...model.inputShape], b), { training: true, rng: new Random(dropSeed) });
    const { loss, dlogits } = softmaxCrossEntropy(logits, tensor(y, [N], b));
    model.backward(dlogits);
    const grads = new Map(model.params().filter((p) => p.trainable).map((p) => [p.name, p.grad!]));
    optimizer.apply(model.params());
    return { logits, loss, dlogits, grads };
  });
  const read = async (m: Map<string, Tensor>) => new Map(await Promise.all([...m].map(async ([k, t]) => [k, await t.read()] as const)));
  const result: StepResult = {
    logits: await out.logits.read(),
    loss: (await out.loss.read())[0],
    dlogits: await out.dlogits.read(),
    grads: await read(out.grads),
    after: await read(new Map(model.params().map((p) => [p.name, p.value]))),
    state: await read(optimizer.state),
  };
  for (const t of [out.logits, out.loss, out.dlogits, ...out.grads.values()]) t.dispose();
  return result;
}

function byLayer(names: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of names) {
    const layer = n.slice(0, n.lastIndexOf('.'));
    out.set(layer, [...(out.get(layer) ?? []), n]);
  }
  return out;
}

/** Gives the WebGPU twin the CPU's parameters and optimizer state, so that a step compares one update. */
async function sync(from: { model: Sequential; optimizer: Optimizer }, to: { model: Sequential; optimizer: Optimizer }): Promise<void> {
  const values = new Map(from.model.params().map((p) => [p.name, p.value]));
  for (const p of to.model.params()) setParamValue(p, await values.get(p.name)!.read());
  for (const [k, t] of from.optimizer.state) {
    to.optimizer.state.get(k)?.dispose();
    to.optimizer.state.set(k, keep(tensor(await t.read(), t.shape, to.model.backend)));
  }
  to.optimizer.step = from.optimizer.step;
}

/**
 * Adam moves each weight by about lr·m/√v: the SIGN of its gradient history, whatever its size.
 * Where a gradient is (mathematically) zero, such as a bias feeding batch norm through a relu
 * that is active for the whole batch (batch norm cancels any shift), the two backends each hold
 * rounding noise of their own, and Adam turns the noise into steps of up to ±lr in either
 * direction: no agreement is possible there. So the update is compared where the step is
 * determined, |m| > 1e-3·max|m| and > 1e-6 (the backends' m agree to about 1e-6 of max|m|, so there the
 * direction is the same), and elsewhere only bounded by what one step can do, 2·lr.
 */
function expectAdamParamsClose(g: Float32Array, c: Float32Array, m: Float32Array, lr: number, tol: number, what: string): void {
  const mMax = m.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  // A parameter whose whole gradient is noise (such a bias: max|m| itself ~1e-9) has no
  // determined step at all; 1e-6 is far below any real gradient here (seen on wasm, seed
  // 896242850: dense.bias 4e-4 apart where |m| was noise, not 1e-3 of a real maximum).
  const determined = [...m.keys()].filter((i) => Math.abs(m[i]) > Math.max(1e-3 * mMax, 1e-6));
  expectClose(determined.map((i) => g[i]), determined.map((i) => c[i]), tol, `${what} (where the step is determined)`);
  for (let i = 0; i < c.length; i++) expect(Math.abs(g[i] - c[i]), `${what}[${i}]`).toBeLessThanOrEqual(2 * lr * (1 + 1e-3));
}

function expectSameStep(g: StepResult, c: StepResult, config: OptimizerConfig, tol: number, what: string): void {
  expectClose(g.logits, c.logits, tol, `${what}: logits`);
  expectClose([g.loss], [c.loss], tol, `${what}: loss`);
  expectClose(g.dlogits, c.dlogits, tol, `${what}: dlogits`);
  expect([...g.grads.keys()]).toEqual([...c.grads.keys()]);
  // Per layer, weight and bias (gamma and beta) together, as in sequential.test.ts: a bias that
  // feeds batch norm has a gradient that cancels to rounding noise by itself.
  for (const [layer, names] of byLayer([...c.grads.keys()])) {
    const cat = (r: StepResult) => names.flatMap((n) => Array.from(r.grads.get(n)!));
    expectClose(cat(g), cat(c), tol, `${what}: gradients of ${layer} (${names.join(', ')})`);
  }
  expect([...g.state.keys()]).toEqual([...c.state.keys()]);
  // The optimizer state (velocity, m, v) is grouped the same way: layer and slot.
  const slots = new Map<string, string[]>();
  for (const k of c.state.keys()) {
    const group = `${k.split('.')[0]} ${k.slice(k.lastIndexOf('.') + 1)}`;
    slots.set(group, [...(slots.get(group) ?? []), k]);
  }
  for (const [group, keys] of slots) {
    const cat = (r: StepResult) => keys.flatMap((k) => Array.from(r.state.get(k)!));
    expectClose(cat(g), cat(c), tol, `${what}: optimizer state ${group} (${keys.join(', ')})`);
  }
  for (const [name, v] of c.after) {
    const m = c.state.get(`${name}.m`);
    if (config.kind === 'adam' && m) expectAdamParamsClose(g.after.get(name)!, v, m, config.lr, tol, `${what}: ${name} after the update`);
    else expectClose(g.after.get(name)!, v, tol, `${what}: ${name} after the update`);
  }
}

/**
 * A whole training step on two backends is compared looser than one kernel, because batch norm
 * over a few examples makes the step ill-conditioned. Its backward pass,
 * dx = γ·invStd·(dy − mean dy − x̂·mean(dy·x̂)), is a difference of terms that can nearly cancel
 * for a feature, and every gradient upstream inherits the rounding of those terms, not of their
 * small result; the forward pass divides by a standard deviation that can be small against |x|.
 * Measured on the tiny model at batch 8, wasm against the CPU, inputs away from kinks and dead
 * layers (below), 3,000 draws × two optimizers × two steps: per layer's gradients median 6e-7,
 * p99 8e-6, worst 1.2e-4; the CPU accumulates in doubles and stayed within 5e-6 of float64
 * there, so the 1.2e-4 is the step's conditioning meeting float32 sums, not a wrong element. At
 * batch 3 (before) the tail reached 6e-4, with the CPU itself as far from float64 in some
 * draws. The small network (390,663 parameters, sums of up to 1,152 terms, a dense batch norm
 * over 8 examples) is judged the same way (worst seen 9e-5 over 171 draws that took the same
 * paths). 1e-3 normwise is 8× the worst seen, while a wrong index or a dropped term gives errors
 * of order 1.
 */
const STEP_TOLERANCE = 1e-3;
/** The tiny model's batch: batch norm over 3 examples (the old size) cancelled far more often. */
const TINY_BATCH = 8;

/**
 * An input for the tiny model's step that compares something everywhere: away from every relu
 * and pooling kink (drawInput: a value that rounds to the other side of a kink sends its
 * gradient down the other path, an order-1 difference that is no kernel's fault), and with every
 * layer that has parameters receiving a nonzero input. Where conv2d_1's relus are all off for
 * the batch (about 1 draw in 150 at batch 3), the dense layer sees zeros: its weight gradient is
 * exactly 0 and its bias gradient cancels through batch norm to rounding noise on both sides,
 * which a normwise comparison then reads as errors of order 1.
 */
async function drawLiveInput(model: Sequential, N: number, dropSeed: number): Promise<Float32Array> {
  const everyLayerFed = (pass: Float64Pass) => model.layers.every((l, i) => l.params().length === 0 || pass.trace[i].x.some((v) => v !== 0));
  return drawInput(model.layers, model.shapes, await float64Params(model.layers), N, dropSeed, everyLayerFed);
}

const SGD: OptimizerConfig = { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false, weightDecay: 1e-3 };
const ADAM: OptimizerConfig = { kind: 'adam', lr: 1e-3, momentum: 0, nesterov: false, weightDecay: 1e-2 };

for (const target of ['webgpu', 'wasm'] as const) {
  const absent = target === 'webgpu' ? !gpu : !wasm;
  describe(`a tiny model on ${target} against the CPU specification`, () => {
    for (const config of [SGD, ADAM]) {
      it.skipIf(absent)(`two training steps with ${config.kind}, each from the same state: forward, loss, every gradient, the update and the optimizer state agree`, async () => {
        const models = await twins(tinyModel, target);
        const opt = { cpu: new Optimizer({ ...config }), other: new Optimizer({ ...config }) };
        for (let step = 0; step < 2; step++) {
          // Adam's undetermined steps (see above) would make the second step start apart.
          await sync({ model: models.cpu, optimizer: opt.cpu }, { model: models.other, optimizer: opt.other });
          const N = TINY_BATCH;
          const dropSeed = randomInt(0, 2 ** 31);
          const x = await drawLiveInput(models.cpu, N, dropSeed);
          const y = Float32Array.from({ length: N }, () => randomInt(0, 6));
          const c = await trainStep(models.cpu, opt.cpu, x, y, dropSeed);
          const g = await trainStep(models.other, opt.other, x, y, dropSeed);
          expectSameStep(g, c, config, STEP_TOLERANCE, `${config.kind} step ${step + 1}`);
        }
      });
    }

    it.skipIf(absent)('inference at batch 1 and 5 agrees (running statistics, no dropout)', async () => {
      const models = await twins(tinyModel, target);
      for (const N of [1, 5]) {
        const x = randomArray(N * 2 * 81);
        const c = await models.cpu.forward(tensor(x, [N, 2, 9, 9], 'cpu'), { training: false }).read();
        const g = await models.other.forward(tensor(x, [N, 2, 9, 9], target), { training: false }).read();
        expectClose(g, c, GPU_TOLERANCE, `inference logits, batch ${N}`);
      }
    });
  });
}

describe('GPU memory over training steps', () => {
  for (const config of [SGD, ADAM]) {
    it.skipIf(!gpu)(`the live buffer count stays flat over 20 steps with ${config.kind}`, async () => {
      const model = tinyModel().build(new Random(randomInt(0, 2 ** 31)), 'webgpu');
      const optimizer = new Optimizer({ ...config });
      const N = 4;
      const x = tensor(randomArray(N * 2 * 81), [N, 2, 9, 9], 'webgpu');
      const y = tensor(Float32Array.from({ length: N }, (_, i) => i % 7), [N], 'webgpu');
      // Fresh dropout seeds: a uniform buffer cached by an earlier test must not hide a new one.
      const seedBase = randomInt(0, 2 ** 30);
      const step = async (i: number) => {
        const loss = scope(() => {
          const logits = model.forward(x, { training: true, rng: new Random(seedBase + i) });
          const { loss, dlogits } = softmaxCrossEntropy(logits, y);
          model.backward(dlogits);
          optimizer.apply(model.params());
          return loss;
        });
        const v = (await loss.read())[0];
        loss.dispose();
        return v;
      };
      await step(0);
      const live = gpu!.liveBuffers;
      const counts: number[] = [];
      for (let i = 1; i <= 20; i++) {
        expect(Number.isFinite(await step(i))).toBe(true);
        counts.push(gpu!.liveBuffers);
      }
      expect(counts, `live GPU buffers after each step (after warm-up: ${live})`).toEqual(new Array(20).fill(live));
      model.dispose();
      optimizer.dispose();
      x.dispose();
      y.dispose();
    });
  }
});

/** ‖a − b‖₂ / ‖b‖₂: the size of the difference over the whole gradient, not its largest element. */
function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

/**
 * The real `seed` network (2.1 M parameters) takes one training step, batch 2, on the CPU, on
 * WebGPU and in float64 (the reference functions composed, float64-net.ts). Measured on this
 * machine's SwiftShader: about 115–185 s per WebGPU pass (the test makes two), 7–15 s for the
 * CPU step and 6–13 s for float64: about 4.7 minutes in all, so it runs only with
 * FER_SLOW_TESTS=1.
 *
 * Float32 rounding at these sizes: sums of up to 4232 terms (the first convolution's weight
 * gradient, batch·46·46) and inner products of K = 256·9 = 2304 leave a kernel about
 * √n·u ≈ 65·6e-8 ≈ 4e-6 from the exact result; 1e-4 bounds that with room. That is checked
 * layer by layer: each WebGPU layer, given this step's exact (float64) input and output
 * gradient, must reproduce the exact output, input gradient and parameter gradients to 1e-4
 * (measured: at most 5e-6). A relu whose input lies within rounding of 0 may decide the other
 * way in float32 (one such output moved conv2d_1's input gradient by 3.6e-3 in 2-norm in a CI
 * run): such outputs get a zero gradient on both sides, and the layer is compared again.
 *
 * End to end the differences are amplified, so they are judged differently. At batch 2 a batch
 * norm over features sees two examples whose values are nearly equal (the faces look alike to
 * the dense layers): it normalises their small difference, so relative errors grow by |x|/|d|
 * at each of the three dense batch norms (measured: 4e-6 in, 3e-4 out at the first). WebGPU
 * accumulates in float32; the CPU reference accumulates in JavaScript doubles and rounds only
 * what it stores, so it starts ten times closer: measured end to end, the CPU's gradients are
 * 1e-4–3e-4 from float64 and WebGPU's 1e-3–3e-3, both evenly over the layers. Where, in
 * addition, a relu or max-pool decision near its kink comes out differently, a gradient term
 * takes another path: in two earlier runs (other seeds) single elements of the early
 * convolutions' gradients ended up to 1.4e-1 (of the largest) apart, which such a rerouting
 * explains (not traced further: every kernel stays within 5e-6 given exact inputs). So end to end: the loss
 * to END_TO_END_LOSS (below), and each gradient as a whole, ‖webgpu − cpu‖₂/‖cpu‖₂ ≤ 0.1
 * (measured at most 2.1e-3 in a run without flips): a few rerouted terms barely move the
 * 2-norm of a tensor of up to 590,000 elements, while a wrong index or a missed term moves it
 * by order 1.
 */
const SLOW_LAYER_TOLERANCE = 1e-4;

/** Outputs of a 2×2, stride-2 max-pool whose first maximum differs between x and x rounded to float32. */
function poolWindowsDecidedOtherwise(layer: MaxPool2D, shape: readonly number[], x: Float64Array): number[] {
  const { size, stride, padding } = layer.opts;
  if (size !== 2 || stride !== 2 || padding !== 'valid') throw new Error(`poolWindowsDecidedOtherwise: only 2×2 windows at stride 2, got ${JSON.stringify(layer.opts)}`);
  const [, H, W] = shape;
  const [OH, OW] = [Math.floor(H / 2), Math.floor(W / 2)];
  const planes = x.length / (H * W);
  const first = (v: number[]) => v.reduce((best, value, k) => (value > v[best] ? k : best), 0);
  const out: number[] = [];
  for (let p = 0; p < planes; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const at = [0, 1, W, W + 1].map((d) => p * H * W + 2 * oh * W + 2 * ow + d);
        const exact = at.map((k) => x[k]);
        if (first(exact) !== first(exact.map(Math.fround))) out.push((p * OH + oh) * OW + ow);
      }
    }
  }
  return out;
}
/**
 * The loss end to end: measured 2e-5 to 3e-5 on WebGPU and up to 1.07e-4 on wasm over eight
 * seeds, then 5.0e-4 on WebGPU (seed 906116845: cpu 1.42517, webgpu 1.42445, float64 1.42520,
 * every layer within 3.6e-6 of float64 from exact inputs): how far the batch-2 batch norms
 * amplify rounding depends on how alike the two faces are, so the bound is 3e-3. A wiring error
 * (a layer skipped or misindexed) moves a loss near 1.4–4.5 by far more.
 */
const END_TO_END_LOSS = 3e-3;
const END_TO_END_L2 = 0.1;
const slow = SLOW;
if (gpu && !slow) console.warn('\n[skip] the seed-model training step on WebGPU vs CPU (about 2 minutes on SwiftShader here): set FER_SLOW_TESTS=1 to run it (CI runs it unless FER_SLOW_TESTS=0)\n');

// On WebAssembly the same comparison takes seconds, so it runs in every test run.
for (const target of ['webgpu', 'wasm'] as const) describe(`the seed model: one training step on ${target} gives the CPU's loss and gradients`, () => {
  it.skipIf(target === 'webgpu' ? !gpu || !slow : !wasm)(
    'batch 2 of synthetic faces: the loss and every parameter gradient; every layer within float32 rounding of float64',
    async () => {
      const ds = syntheticFaces({ count: 2, seed: randomInt(0, 1000) });
      const { x, y } = assembleBatch(ds, [0, 1], null, null);
      const seed = randomInt(0, 2 ** 31);
      const fmt = (v: number) => v.toExponential(1);

      // Both backends from the same initialisation; the float64 step from the CPU's values.
      const models = { cpu: createModel('seed').build(new Random(seed), 'cpu'), webgpu: createModel('seed').build(new Random(seed), target) };
      const { layers, shapes } = models.cpu;
      const params = await float64Params(layers);
      let t0 = performance.now();
      const pass = float64Forward(layers, shapes, params, toF64(x), 2, { training: true });
      const dz = new Float64Array(2 * 7);
      const exactLoss = softmaxCrossEntropyRef(pass.y, toF64(y), null, 2, 7, dz);
      const outputGrads: Float64Array[] = [];
      const exact = float64Backward(layers, shapes, params, pass, 2, dz, outputGrads);
      const seconds: Record<string, number> = { float64: (performance.now() - t0) / 1000 };

      const steps: Record<string, { loss: number; grads: Map<string, Float32Array> }> = {};
      for (const [key, b] of [['cpu', 'cpu'], ['webgpu', target]] as const) {
        const model = models[key];
        t0 = performance.now();
        const out = scope(() => {
          const logits = model.forward(tensor(x, [2, 1, 48, 48], b), { training: true });
          const { loss, dlogits } = softmaxCrossEntropy(logits, tensor(y, [2], b));
          model.backward(dlogits);
          return { loss, grads: model.params().filter((p) => p.trainable).map((p) => [p.name, p.grad!] as const) };
        });
        const grads = new Map<string, Float32Array>();
        for (const [name, t] of out.grads) grads.set(name, await t.read());
        steps[key] = { loss: (await out.loss.read())[0], grads };
        seconds[key] = (performance.now() - t0) / 1000;
      }

      // WebGPU layer by layer, from the exact activations and output gradients.
      t0 = performance.now();
      const perLayer: string[] = [];
      let worstLayer = 0;
      for (let i = 0; i < layers.length; i++) {
        const layer = models.webgpu.layers[i];
        const trace = pass.trace[i];
        const run = (dy: Float64Array) => scope(() => {
          const out = layer.forward(tensor(Float32Array.from(trace.x), [2, ...shapes[i]], target), { training: true });
          const dx = layer.backward(tensor(Float32Array.from(dy), out.shape, target), i > 0);
          return { out, dx, grads: layer.params().filter((p) => p.trainable).map((p) => [p.name, p.grad!] as const) };
        });
        let errs = run(outputGrads[i]);
        const yOut = await errs.out.read();
        // A relu whose input lies within float32 rounding of 0 may decide the other way than in
        // float64: that output's gradient then takes the other path (a kink, not an error of the
        // kernel). Where that happens, the layer runs again with those outputs' gradient set to
        // 0, and float64 recomputes this layer's gradients from the same: both sides then agree
        // on every path and are compared elementwise like the rest.
        const flipped: number[] = [];
        for (let k = 0; k < yOut.length; k++) if (yOut[k] > 0 !== trace.y[k] > 0) flipped.push(k);
        // The same for a max-pool window whose maximum is another cell once its inputs are
        // rounded to float32 (two values that round to one float32: the first then wins).
        if (layer instanceof MaxPool2D) flipped.push(...poolWindowsDecidedOtherwise(layer, shapes[i], trace.x));
        let wantDx = outputGrads[i - 1];
        let wantGrads = exact;
        if (flipped.length > 0) {
          const dy = Float64Array.from(outputGrads[i]);
          for (const k of flipped) dy[k] = 0;
          errs = run(dy);
          // float64Backward over this layer (and, for its input gradient, the one before it, whose
          // output gradient is this layer's dx)
          const from = Math.max(0, i - 1);
          const grads: Float64Array[] = [];
          wantGrads = float64Backward(layers.slice(from, i + 1), shapes.slice(from, i + 1), params, { ...pass, trace: pass.trace.slice(from, i + 1) }, 2, dy, grads);
          wantDx = grads[0];
        }
        const found: [string, number][] = [['y', relativeError(await errs.out.read(), trace.y)]];
        if (errs.dx) found.push(['dx', relativeError(await errs.dx.read(), wantDx)]);
        for (const [name, t] of errs.grads) found.push([name.slice(name.lastIndexOf('.') + 1), relativeError(await t.read(), wantGrads.get(name)!)]);
        perLayer.push(`${layer.name}: ${found.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}${flipped.length ? ` (${flipped.length} relu decision(s) at a kink: their gradient set to 0 on both sides)` : ''}`);
        for (const [k, v] of found) {
          worstLayer = Math.max(worstLayer, v);
          expect(v, `${layer.name} ${k} on ${target} from exact inputs, against float64${flipped.length ? ` (${flipped.length} kink decision(s) zeroed)` : ''}`).toBeLessThanOrEqual(SLOW_LAYER_TOLERANCE);
        }
      }
      seconds.layers = (performance.now() - t0) / 1000;

      const c = steps.cpu;
      const g = steps.webgpu;
      console.log(
        `seed step, batch 2: cpu ${seconds.cpu.toFixed(1)} s, ${target} ${seconds.webgpu.toFixed(1)} s, float64 ${seconds.float64.toFixed(1)} s, ` +
          `${target} layer by layer ${seconds.layers.toFixed(1)} s; loss cpu ${c.loss}, ${target} ${g.loss}, float64 ${exactLoss}`,
      );
      console.log(`${target} layers from exact inputs against float64 (normwise; worst ${fmt(worstLayer)}):\n  ${perLayer.join('\n  ')}`);
      // 6 convolutions, 4 dense layers (weight and bias each), 9 batch norms (gamma and beta).
      expect(c.grads.size).toBe(38);
      expect([...g.grads.keys()]).toEqual([...c.grads.keys()]);
      const rows = [...c.grads.keys()].map((name) => ({
        name,
        cpu: relativeError(c.grads.get(name)!, exact.get(name)!),
        webgpu: relativeError(g.grads.get(name)!, exact.get(name)!),
        apart: relativeError(g.grads.get(name)!, c.grads.get(name)!),
        l2: relativeL2(g.grads.get(name)!, c.grads.get(name)!),
      }));
      console.log(
        `end to end (normwise against float64: cpu / webgpu; webgpu against cpu: normwise / 2-norm):\n` +
          rows.map((r) => `  ${r.name}: ${fmt(r.cpu)} / ${fmt(r.webgpu)}; ${fmt(r.apart)} / ${fmt(r.l2)}`).join('\n'),
      );
      expectClose([g.loss], [c.loss], END_TO_END_LOSS, `loss, ${target} against cpu`);
      for (const r of rows) expect(r.l2, `${r.name}: ‖${target} − cpu‖₂/‖cpu‖₂`).toBeLessThanOrEqual(END_TO_END_L2);
      models.webgpu.dispose();
    },
    900_000,
  );
});

/**
 * How many relu decisions and max-pool window choices differ between two twins' training
 * forward passes on x (layer by layer, each on its own backend's input). A pre-activation within
 * float32 rounding of 0, or two window cells within rounding of each other, can be decided one
 * way by one backend's order of sums and the other way by the other's; that element's gradient
 * then takes another path, and a weight gradient (a sum over every position) moves by the whole
 * term: about 1e-2 of its largest element, which no kernel caused. The running statistics the
 * passes update are put back.
 */
async function pathDisagreements(a: Sequential, b: Sequential, x: Float32Array, dropSeed: number): Promise<number> {
  const N = x.length / a.inputShape.reduce((p, d) => p * d, 1);
  const saved = await Promise.all([...a.params(), ...b.params()].map(async (p) => [p, await p.value.read()] as const));
  const rng = [new Random(dropSeed), new Random(dropSeed)];
  let h = [tensor(x, [N, ...a.inputShape], a.backend), tensor(x, [N, ...b.inputShape], b.backend)];
  let differ = 0;
  for (let i = 0; i < a.layers.length; i++) {
    const pair = [a.layers[i], b.layers[i]];
    const y = scope(() => pair.map((l, k) => l.forward(h[k], { training: true, rng: rng[k] })));
    const l = pair[0];
    if (l instanceof ReLU || ((l instanceof Conv2D || l instanceof Dense) && l.opts.activation === 'relu')) {
      const [ya, yb] = await Promise.all(y.map((t) => t.read()));
      for (let k = 0; k < ya.length; k++) if (ya[k] > 0 !== yb[k] > 0) differ++;
    }
    if (l instanceof MaxPool2D) {
      const g = pool2dGeometry([N, ...a.shapes[i]], l.opts);
      const [xa, xb] = await Promise.all(h.map((t) => t.read()));
      for (let plane = 0; plane < g.N * g.C; plane++) {
        for (let oh = 0; oh < g.OH; oh++) {
          for (let ow = 0; ow < g.OW; ow++) if (windowArgmax(g, xa, plane, oh, ow) !== windowArgmax(g, xb, plane, oh, ow)) differ++;
        }
      }
    }
    for (const t of h) t.dispose();
    h = y;
  }
  for (const t of h) t.dispose();
  for (const [p, v] of saved) setParamValue(p, v);
  return differ;
}

describe.skipIf(!wasm)('the small model: one training step on wasm equals the CPU specification\'s', () => {
  it('batch 8 of synthetic faces, SGD with momentum: forward, loss, every gradient, the update and the velocity agree within float32 rounding', async () => {
    const models = await twins(() => createModel('small'), 'wasm');
    const opt = { cpu: new Optimizer({ ...SGD }), other: new Optimizer({ ...SGD }) };
    // Measured over 200 draws of synthetic faces (flat regions: many near-ties): 29 had a
    // decision that the two backends took differently (pathDisagreements), and those alone held
    // every gradient more than 2e-4 apart (up to 4.6e-2); in the other 171 every layer's
    // gradients stayed within 9e-5. Such draws are redrawn: ten in a row happen about once in 1e8.
    let batch: { x: Float32Array; y: Float32Array; dropSeed: number } | null = null;
    const redrawn: number[] = [];
    for (let draw = 0; draw < 10 && !batch; draw++) {
      const ds = syntheticFaces({ count: 8, seed: randomInt(0, 1000) });
      const { x, y } = assembleBatch(ds, [0, 1, 2, 3, 4, 5, 6, 7], null, null);
      const dropSeed = randomInt(0, 2 ** 31);
      const differ = await pathDisagreements(models.cpu, models.other, x, dropSeed);
      if (differ === 0) batch = { x, y, dropSeed };
      else redrawn.push(differ);
    }
    if (!batch) expect.fail(`10 draws, each with a relu or max-pool decision the backends took differently (${redrawn.join(', ')})`);
    const { x, y, dropSeed } = batch;
    const c = await trainStep(models.cpu, opt.cpu, x, y, dropSeed);
    const g = await trainStep(models.other, opt.other, x, y, dropSeed);
    expectSameStep(g, c, SGD, STEP_TOLERANCE, 'small, sgd');
  });
});
