// The dispatches an op makes at given shapes, each with its cost (costs.ts), its WGSL files and
// a way to run it on random inputs. Layers build their kernel plans from these
// (Layer.kernels in src/nn/layer.ts); `fer kernels`, the benches and the explorer read the plans.
import { tensor } from '../backend/create.ts';
import { Random } from '../backend/random.ts';
import { formatShape, type BackendName, type Shape, type Tensor } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { adamUpdate } from './adam.ts';
import { batchNormBackward, batchNormInfer, batchNormTrain, type BatchNormOptions } from './batchnorm.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dGeometry, type Conv2dGeometry, type Conv2dOptions } from './conv2d.ts';
import { choiceLabel, convKernel, type ConvPass } from './conv2d-webgpu.ts';
import {
  adamCost,
  batchNormCost,
  conv2dCost,
  dropoutCost,
  globalAvgPoolCost,
  matmulCost,
  maxPool2dCost,
  reluCost,
  sgdCost,
  softmaxCrossEntropyCost,
  sumChannelsCost,
  type Cost,
} from './costs.ts';
import { dropout, dropoutBackward } from './dropout.ts';
import { gemmEntry, gemmLabel, gemmTiles } from './gemm.ts';
import { globalAvgPool, globalAvgPoolBackward } from './global-avg-pool.ts';
import { matmul, matmulPath, type MatmulOptions } from './matmul.ts';
import { maxPool2d, maxPool2dBackward, pool2dGeometry, type Pool2dOptions } from './maxpool2d.ts';
import { sumChannels } from './reduce.ts';
import { relu, reluBackward } from './relu.ts';
import { sgdUpdate } from './sgd.ts';
import { softmaxCrossEntropy } from './softmax-cross-entropy.ts';

/** A kernel made ready to call: `call` runs it once and disposes what it made. */
export interface Prepared {
  call(): void;
  dispose(): void;
}

/** The WGSL files a dispatch runs (names under shaders/) and, for the GEMM core, how its loop runs. */
export interface Shaders {
  files: string[];
  loop?: string;
}

export interface KernelUse {
  /** `<op>.<pass>`, e.g. conv2d.forward. */
  kernel: string;
  shape: string;
  cost: Cost;
  /** Whether an inference forward runs it, and whether a training step does. */
  inference: boolean;
  training: boolean;
  /** The product that computes the layer's input gradient: the first layer of a model skips it. */
  inputGradient?: boolean;
  /** Why the shape differs from the model's, if it does. */
  note?: string;
  /** The GEMM kernel it runs on this GPU, for GEMM-shaped kernels. */
  variant?: (gpu: WebGpuBackend) => string;
  /** For convolution passes: the shape, which autotuning (conv2d-tune.ts) times the kernels at. */
  conv?: { x: Shape; w: Shape; opts: Conv2dOptions };
  /** Its WGSL on `gpu`; with no GPU, every file it may run on some adapter. */
  shaders(gpu: WebGpuBackend | null): Shaders;
  prepare(backend: BackendName): Prepared;
}

/** Batch norm needs two values per channel to train; dense layers see one per image. */
export const MIN_TRAIN_VALUES = 2;

const size = (s: Shape) => s.reduce((p, q) => p * q, 1);
const files = (...f: string[]) => () => ({ files: f });

type Inputs = ReturnType<typeof inputs>;

function inputs(backend: BackendName, seed: number) {
  const rng = new Random(seed);
  const made: Tensor[] = [];
  const make = (shape: Shape, lo = -1, hi = 1) => {
    const a = new Float32Array(size(shape));
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
    const t = tensor(a, shape, backend);
    made.push(t);
    return t;
  };
  const own = (t: Tensor) => (made.push(t), t);
  return { make, own, rng, dispose: () => made.forEach((t) => t.dispose()) };
}

/** A Prepared from inputs and a call whose outputs are disposed at once. */
function ready(ins: Inputs, call: () => Tensor | Tensor[] | void): Prepared {
  return {
    call: () => {
      const out = call();
      if (Array.isArray(out)) out.forEach((t) => t.dispose());
      else out?.dispose();
    },
    dispose: ins.dispose,
  };
}

type Phase = Pick<KernelUse, 'inference' | 'training'>;
const BOTH: Phase = { inference: true, training: true };
const TRAINING: Phase = { inference: false, training: true };
const INFERENCE: Phase = { inference: true, training: false };

function elementwise(kernel: string, shape: Shape, cost: Cost, phase: Phase, wgsl: string, run: (i: Inputs) => () => Tensor | Tensor[] | void, note?: string): KernelUse {
  return {
    kernel, shape: formatShape(shape), cost, note, ...phase, shaders: files(wgsl),
    prepare: (be) => {
      const i = inputs(be, shape.reduce((p, q) => p * 31 + q, kernel.length));
      return ready(i, run(i));
    },
  };
}

/**
 * What a convolution pass runs on this GPU (conv2d-webgpu.ts): the direct kernel, or the
 * implicit-GEMM core (gemm.wgsl) at the tiles chosen for gathered operands.
 */
function gatherCore(own: string, pass: ConvPass, g: Conv2dGeometry): KernelUse['shaders'] {
  const direct = pass === 'backward-filter' ? 'conv2d_filter_direct.wgsl' : 'conv2d_direct.wgsl';
  return (gpu) => {
    if (!gpu) return { files: [direct, own, 'gemm.wgsl'], loop: `${direct} on software adapters, else gemm.wgsl is the tiled loop` };
    const c = convKernel(gpu, pass, g);
    if (c.family === 'direct') return { files: [direct], loop: `${direct}, ${c.TM} channels by ${c.TN} outputs per invocation` };
    return { files: [own, 'gemm.wgsl'], loop: `gemm.wgsl's ${gemmEntry(c.tiles)} entry point is the tiled loop` };
  };
}

/** Forward (with its fused relu), input gradient and filter gradient of a convolution on x. */
export function conv2dUses(x: Shape, wShape: Shape, opts: Conv2dOptions, withRelu: boolean, batch: number): KernelUse[] {
  const g = conv2dGeometry(x, wShape, opts);
  const yShape = [g.N, g.K, g.OH, g.OW];
  const stride = opts.stride ?? 1;
  const shape = `x${formatShape(x)} w${formatShape(wShape)}${stride > 1 ? ` stride ${stride}` : ''} ${opts.padding ?? 'valid'}`;
  const variant = (pass: ConvPass) => (gpu: WebGpuBackend) => choiceLabel(convKernel(gpu, pass, g));
  const seed = batch * 7919 + wShape.reduce((p, q) => p * 31 + q, 0);
  const conv = { x, w: wShape, opts };
  return [
    {
      kernel: 'conv2d.forward', shape: `${shape}${withRelu ? ' +relu' : ''}`, cost: conv2dCost(g, 'forward'), variant: variant('forward'), conv, ...BOTH, shaders: gatherCore('conv2d.wgsl', 'forward', g),
      prepare: (be) => {
        const i = inputs(be, seed);
        const [xt, w, b] = [i.make(x), i.make(wShape), i.make([g.K])];
        return ready(i, () => conv2d(xt, w, b, { ...opts, relu: withRelu }));
      },
    },
    {
      kernel: 'conv2d.backward-input', shape, cost: conv2dCost(g, 'backward-input'), variant: variant('backward-input'), conv, ...TRAINING, inputGradient: true, shaders: gatherCore('conv2d_backward_input.wgsl', 'backward-input', g),
      prepare: (be) => {
        const i = inputs(be, seed + 1);
        const [dy, w] = [i.make(yShape), i.make(wShape)];
        return ready(i, () => conv2dBackwardInput(dy, w, x, opts));
      },
    },
    {
      kernel: 'conv2d.backward-filter', shape, cost: conv2dCost(g, 'backward-filter'), variant: variant('backward-filter'), conv, ...TRAINING, shaders: gatherCore('conv2d_backward_filter.wgsl', 'backward-filter', g),
      prepare: (be) => {
        const i = inputs(be, seed + 2);
        const [xt, dy] = [i.make(x), i.make(yShape)];
        return ready(i, () => conv2dBackwardFilter(xt, dy, wShape, opts));
      },
    },
  ];
}

/** One matmul dispatch: matmul.wgsl with the GEMM core its sizes get (the vec4 one where operands allow). */
export function matmulUse(kernel: string, aShape: Shape, bShape: Shape, o: MatmulOptions & { bias?: null }, withBias: boolean, phase: Phase, inputGradient = false): KernelUse {
  const [M, K] = o.transA ? [aShape[1], aShape[0]] : [aShape[0], aShape[1]];
  const N = o.transB ? bShape[0] : bShape[1];
  const t = (s: Shape, tr?: boolean) => `${formatShape(s)}${tr ? 'ᵀ' : ''}`;
  return {
    kernel, ...phase, inputGradient,
    shape: `${t(aShape, o.transA)}·${t(bShape, o.transB)}${withBias ? '+b' : ''}${o.relu ? ' +relu' : ''} (M=${M} N=${N} K=${K})`,
    cost: matmulCost(M, N, K, withBias),
    variant: (gpu) => matmulPath(gpu, M, N, K, o),
    shaders: (gpu) => {
      if (!gpu) return { files: ['matmul.wgsl', 'gemm.wgsl', 'gemm_vec4.wgsl'], loop: 'gemm.wgsl (gemm_vec4.wgsl on software adapters) is the tiled loop' };
      if (matmulPath(gpu, M, N, K, o) === 'registers+vec4') return { files: ['matmul.wgsl', 'gemm_vec4.wgsl'], loop: 'gemm_vec4.wgsl is the loop (register tiles read as vec4: this adapter is a software renderer)' };
      return { files: ['matmul.wgsl', 'gemm.wgsl'], loop: `gemm.wgsl's ${gemmEntry(gemmTiles(gpu, 'dense'))} entry point is the tiled loop` };
    },
    prepare: (be) => {
      const i = inputs(be, M * 131 + N * 17 + K);
      const [a, b] = [i.make(aShape), i.make(bShape)];
      const bias = withBias ? i.make([N]) : null;
      return ready(i, () => matmul(a, b, { ...o, bias }));
    },
  };
}

/** A dense layer's three products on x [B, in]: y = x·Wᵀ + b (with its relu), dW = dzᵀ·x, dx = dz·W. */
export function denseUses(x: Shape, units: number, withRelu: boolean): KernelUse[] {
  const w = [units, x[1]];
  const dz = [x[0], units];
  return [
    matmulUse('matmul.forward', x, w, { transB: true, relu: withRelu }, true, BOTH),
    matmulUse('matmul.backward-weights', dz, x, { transA: true }, false, TRAINING),
    matmulUse('matmul.backward-input', dz, w, {}, false, TRAINING, true),
  ];
}

/** relu's forward pass (a ReLU layer of its own) and its backward, on y. */
export function reluUses(y: Shape, forward: boolean): KernelUse[] {
  const n = size(y);
  const back = elementwise('relu.backward', y, reluCost(n, 'backward'), TRAINING, 'relu.wgsl', (i) => { const [yt, dy] = [i.make(y), i.make(y)]; return () => reluBackward(yt, dy); });
  if (!forward) return [back];
  return [elementwise('relu.forward', y, reluCost(n, 'forward'), BOTH, 'relu.wgsl', (i) => { const xv = i.make(y); return () => relu(xv); }), back];
}

/** A bias gradient: the sum of each channel of y [N, C, ...]. */
export function sumChannelsUse(y: Shape): KernelUse {
  const S = y.slice(2).reduce((p, q) => p * q, 1);
  return elementwise('reduce.sumChannels', y, sumChannelsCost(y[0], y[1], S), TRAINING, 'reduce.wgsl', (i) => { const x = i.make(y); return () => sumChannels(x); });
}

/** Batch norm on x [N, C, ...]: training statistics and apply, inference apply, backward. */
export function batchNormUses(x: Shape, o: Required<BatchNormOptions>): KernelUse[] {
  const [N, C] = x;
  const S = x.slice(2).reduce((p, q) => p * q, 1);
  // Training needs two values per channel; a dense layer at batch 1 has one, so it trains at 2.
  const trainN = N * S < MIN_TRAIN_VALUES ? MIN_TRAIN_VALUES : N;
  const xt = [trainN, ...x.slice(1)];
  const note = trainN !== N ? `batch ${trainN}: training batch norm needs ${MIN_TRAIN_VALUES} values per channel` : undefined;
  const perChannel = (i: Inputs) => [i.make([C]), i.make([C]), i.make([C], -0.5, 0.5), i.make([C], 0.5, 1.5)];
  return [
    elementwise('batchnorm.train', xt, batchNormCost(trainN, C, S, 'train'), TRAINING, 'batchnorm.wgsl', (i) => {
      const [xv, [g, b, rm, rv]] = [i.make(xt), perChannel(i)];
      return () => { const r = batchNormTrain(xv, g, b, rm, rv, o); return [r.y, r.mean, r.invStd]; };
    }, note),
    elementwise('batchnorm.infer', x, batchNormCost(N, C, S, 'infer'), INFERENCE, 'batchnorm.wgsl', (i) => {
      const [xv, [g, b, rm, rv]] = [i.make(x), perChannel(i)];
      return () => batchNormInfer(xv, g, b, rm, rv, o);
    }),
    elementwise('batchnorm.backward', xt, batchNormCost(trainN, C, S, 'backward'), TRAINING, 'batchnorm.wgsl', (i) => {
      const [xv, dy, g, mean, invStd] = [i.make(xt), i.make(xt), i.make([C]), i.make([C], -0.5, 0.5), i.make([C], 0.5, 2)];
      return () => { const r = batchNormBackward(xv, dy, g, mean, invStd); return [r.dx, r.dgamma, r.dbeta]; };
    }, note),
  ];
}

export function maxPool2dUses(x: Shape, opts: Pool2dOptions): KernelUse[] {
  const g = pool2dGeometry(x, opts);
  const y = [g.N, g.C, g.OH, g.OW];
  return [
    elementwise('maxpool2d.forward', x, maxPool2dCost(g, 'forward'), BOTH, 'maxpool2d.wgsl', (i) => { const xv = i.make(x); return () => maxPool2d(xv, opts); }),
    elementwise('maxpool2d.backward', x, maxPool2dCost(g, 'backward'), TRAINING, 'maxpool2d.wgsl', (i) => {
      const [xv, dy] = [i.make(x), i.make(y)];
      return () => maxPool2dBackward(xv, dy, opts);
    }),
  ];
}

export function globalAvgPoolUses(x: Shape): KernelUse[] {
  const [N, C] = x;
  const S = x.slice(2).reduce((p, q) => p * q, 1);
  return [
    elementwise('global_avg_pool.forward', x, globalAvgPoolCost(N, C, S, 'forward'), BOTH, 'global_avg_pool.wgsl', (i) => { const xv = i.make(x); return () => globalAvgPool(xv); }),
    elementwise('global_avg_pool.backward', x, globalAvgPoolCost(N, C, S, 'backward'), TRAINING, 'global_avg_pool.wgsl', (i) => {
      const dy = i.make([N, C]);
      return () => globalAvgPoolBackward(dy, x);
    }),
  ];
}

/** Training only: at inference dropout is the identity and dispatches nothing. */
export function dropoutUses(x: Shape, rate: number): KernelUse[] {
  const n = size(x);
  return [
    elementwise('dropout.forward', x, dropoutCost(n), TRAINING, 'dropout.wgsl', (i) => { const xv = i.make(x); return () => dropout(xv, rate, i.rng.seed()); }),
    elementwise('dropout.backward', x, dropoutCost(n), TRAINING, 'dropout.wgsl', (i) => { const dy = i.make(x); return () => dropoutBackward(dy, rate, i.rng.seed()); }),
  ];
}

export function softmaxCrossEntropyUse(batch: number, classes: number): KernelUse {
  return elementwise('softmax-cross-entropy', [batch, classes], softmaxCrossEntropyCost(batch, classes), TRAINING, 'softmax_cross_entropy.wgsl', (i) => {
    const logits = i.make([batch, classes], -3, 3);
    const labels = i.own(tensor(Float32Array.from({ length: batch }, () => i.rng.int(classes)), [batch], logits.backend));
    return () => {
      const r = softmaxCrossEntropy(logits, labels);
      return [r.loss, r.dlogits];
    };
  });
}

/** The two optimizers' updates over `params` trainable values. */
export function optimizerUses(params: number): KernelUse[] {
  const shape = [params];
  const label = `${params.toLocaleString('en-US')} parameters`;
  const sgd = elementwise('sgd', shape, sgdCost(params), TRAINING, 'sgd.wgsl', (i) => {
    const [p, g, v] = [i.make(shape), i.make(shape, -1e-3, 1e-3), i.make(shape, -1e-3, 1e-3)];
    return () => sgdUpdate(p, g, v, { lr: 1e-3, momentum: 0.9, weightDecay: 1e-4 });
  });
  const adam = elementwise('adam', shape, adamCost(params), TRAINING, 'adam.wgsl', (i) => {
    const [p, g, m, v] = [i.make(shape), i.make(shape, -1e-3, 1e-3), i.make(shape, -1e-3, 1e-3), i.make(shape, 0, 1e-6)];
    let step = 0;
    return () => adamUpdate(p, g, m, v, ++step, { lr: 1e-3, weightDecay: 1e-4, decoupled: true });
  });
  return [{ ...sgd, shape: label }, { ...adam, shape: label }];
}
