// The kernels `fer kernels` times: every op a model's training step runs, at the shapes of its
// layers for one batch size, each distinct (kernel, shape) once.
import { tensor } from '../backend/create.ts';
import { Random } from '../backend/random.ts';
import { formatShape, type BackendName, type Shape, type Tensor } from '../backend/tensor.ts';
import type { WebGpuBackend } from '../backend/webgpu/backend.ts';
import { BatchNorm } from '../nn/batchnorm.ts';
import { Conv2D } from '../nn/conv2d.ts';
import { Dense } from '../nn/dense.ts';
import { Dropout } from '../nn/dropout.ts';
import { GlobalAvgPool2D, MaxPool2D } from '../nn/pooling.ts';
import { ReLU } from '../nn/activation.ts';
import type { Sequential } from '../nn/sequential.ts';
import { adamUpdate } from '../ops/adam.ts';
import { batchNormBackward, batchNormInfer, batchNormTrain } from '../ops/batchnorm.ts';
import { conv2d, conv2dBackwardFilter, conv2dBackwardInput, conv2dGeometry, type Conv2dOptions } from '../ops/conv2d.ts';
import { dropout, dropoutBackward } from '../ops/dropout.ts';
import { gemmLabel, gemmTiles } from '../ops/gemm.ts';
import { matmul, matmulPath, type MatmulOptions } from '../ops/matmul.ts';
import { globalAvgPool, globalAvgPoolBackward } from '../ops/global-avg-pool.ts';
import { maxPool2d, maxPool2dBackward, pool2dGeometry } from '../ops/maxpool2d.ts';
import { sumChannels } from '../ops/reduce.ts';
import { relu, reluBackward } from '../ops/relu.ts';
import { sgdUpdate } from '../ops/sgd.ts';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy.ts';
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

/** A kernel made ready to call: `call` runs it once and disposes what it made. */
export interface Prepared {
  call(): void;
  dispose(): void;
}

export interface KernelCase {
  kernel: string;
  /** The model's layers that run this kernel at this shape. */
  layers: string[];
  shape: string;
  cost: Cost;
  /** Why the shape differs from the model's, if it does. */
  note?: string;
  /** The GEMM kernel it runs on this GPU, for GEMM-shaped kernels. */
  variant?: (gpu: WebGpuBackend) => string;
  prepare(backend: BackendName): Prepared;
}

/** Batch norm needs two values per channel to train; dense layers see one per image. */
export const MIN_TRAIN_VALUES = 2;

function inputs(backend: BackendName, seed: number) {
  const rng = new Random(seed);
  const made: Tensor[] = [];
  const make = (shape: Shape, lo = -1, hi = 1) => {
    const a = new Float32Array(shape.reduce((p, q) => p * q, 1));
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
    const t = tensor(a, shape, backend);
    made.push(t);
    return t;
  };
  const own = (t: Tensor) => (made.push(t), t);
  return { make, own, rng, dispose: () => made.forEach((t) => t.dispose()) };
}

/** A Prepared from inputs and a call whose outputs are disposed at once. */
function ready(ins: ReturnType<typeof inputs>, call: () => Tensor | Tensor[] | void): Prepared {
  return {
    call: () => {
      const out = call();
      if (Array.isArray(out)) out.forEach((t) => t.dispose());
      else out?.dispose();
    },
    dispose: ins.dispose,
  };
}

function convCases(name: string, x: Shape, layer: Conv2D, batch: number): KernelCase[] {
  const { filters, kernelSize, stride, padding } = layer.opts;
  const wShape = [filters, x[1], kernelSize, kernelSize];
  const opts: Conv2dOptions = { stride, padding };
  const g = conv2dGeometry(x, wShape, opts);
  const yShape = [g.N, g.K, g.OH, g.OW];
  const shape = `x${formatShape(x)} w${formatShape(wShape)}${stride > 1 ? ` stride ${stride}` : ''} ${padding}`;
  const relu = layer.opts.activation === 'relu';
  const variant = (gpu: WebGpuBackend) => gemmLabel(gemmTiles(gpu));
  const seed = batch * 7919 + wShape.reduce((p, q) => p * 31 + q, 0);
  return [
    {
      kernel: 'conv2d.forward', layers: [name], shape: `${shape}${relu ? ' +relu' : ''}`, cost: conv2dCost(g, 'forward'), variant,
      prepare: (be) => {
        const i = inputs(be, seed);
        const [xt, w, b] = [i.make(x), i.make(wShape), i.make([g.K])];
        return ready(i, () => conv2d(xt, w, b, { ...opts, relu }));
      },
    },
    {
      kernel: 'conv2d.backward-input', layers: [name], shape, cost: conv2dCost(g, 'backward-input'), variant,
      prepare: (be) => {
        const i = inputs(be, seed + 1);
        const [dy, w] = [i.make(yShape), i.make(wShape)];
        return ready(i, () => conv2dBackwardInput(dy, w, x, opts));
      },
    },
    {
      kernel: 'conv2d.backward-filter', layers: [name], shape, cost: conv2dCost(g, 'backward-filter'), variant,
      prepare: (be) => {
        const i = inputs(be, seed + 2);
        const [xt, dy] = [i.make(x), i.make(yShape)];
        return ready(i, () => conv2dBackwardFilter(xt, dy, wShape, opts));
      },
    },
  ];
}

function matmulCase(kernel: string, name: string, aShape: Shape, bShape: Shape, o: MatmulOptions & { bias?: null }, withBias: boolean): KernelCase {
  const [M, K] = o.transA ? [aShape[1], aShape[0]] : [aShape[0], aShape[1]];
  const N = o.transB ? bShape[0] : bShape[1];
  const t = (s: Shape, tr?: boolean) => `${formatShape(s)}${tr ? 'ᵀ' : ''}`;
  return {
    kernel, layers: [name],
    shape: `${t(aShape, o.transA)}·${t(bShape, o.transB)}${withBias ? '+b' : ''}${o.relu ? ' +relu' : ''} (M=${M} N=${N} K=${K})`,
    cost: matmulCost(M, N, K, withBias),
    variant: (gpu) => matmulPath(gpu, M, N, K, o),
    prepare: (be) => {
      const i = inputs(be, M * 131 + N * 17 + K);
      const [a, b] = [i.make(aShape), i.make(bShape)];
      const bias = withBias ? i.make([N]) : null;
      return ready(i, () => matmul(a, b, { ...o, bias }));
    },
  };
}

function denseCases(name: string, x: Shape, layer: Dense): KernelCase[] {
  const [B, inputsN] = x;
  const units = layer.opts.units;
  const w = [units, inputsN];
  const dz = [B, units];
  return [
    matmulCase('matmul.forward', name, x, w, { transB: true, relu: layer.opts.activation === 'relu' }, true),
    matmulCase('matmul.backward-weights', name, dz, x, { transA: true }, false),
    matmulCase('matmul.backward-input', name, dz, w, {}, false),
  ];
}

function elementwise(kernel: string, name: string, shape: Shape, cost: Cost, run: (i: ReturnType<typeof inputs>) => () => Tensor | Tensor[] | void, note?: string): KernelCase {
  return {
    kernel, layers: [name], shape: formatShape(shape), cost, note,
    prepare: (be) => {
      const i = inputs(be, shape.reduce((p, q) => p * 31 + q, kernel.length));
      return ready(i, run(i));
    },
  };
}

/** Only the backward: the layers apply their relu in the product's store step (conv2d/matmul forward). */
function reluCases(name: string, y: Shape): KernelCase[] {
  const n = y.reduce((p, q) => p * q, 1);
  return [
    elementwise('relu.backward', name, y, reluCost(n, 'backward'), (i) => { const [yt, dy] = [i.make(y), i.make(y)]; return () => reluBackward(yt, dy); }),
  ];
}

function sumCase(name: string, y: Shape): KernelCase {
  const [N, C] = y;
  const S = y.length === 4 ? y[2] * y[3] : 1;
  return elementwise('reduce.sumChannels', name, y, sumChannelsCost(N, C, S), (i) => { const x = i.make(y); return () => sumChannels(x); });
}

function batchNormCases(name: string, x: Shape, layer: BatchNorm): KernelCase[] {
  const [N, C] = x;
  const S = x.length === 4 ? x[2] * x[3] : 1;
  // Training needs two values per channel; a dense layer at batch 1 has one, so it trains at 2.
  const trainN = N * S < MIN_TRAIN_VALUES ? MIN_TRAIN_VALUES : N;
  const xt = [trainN, ...x.slice(1)];
  const note = trainN !== N ? `batch ${trainN}: training batch norm needs ${MIN_TRAIN_VALUES} values per channel` : undefined;
  const o = layer.opts;
  const perChannel = (i: ReturnType<typeof inputs>) => [i.make([C]), i.make([C]), i.make([C], -0.5, 0.5), i.make([C], 0.5, 1.5)];
  return [
    elementwise('batchnorm.train', name, xt, batchNormCost(trainN, C, S, 'train'), (i) => {
      const [xv, [g, b, rm, rv]] = [i.make(xt), perChannel(i)];
      return () => { const r = batchNormTrain(xv, g, b, rm, rv, o); return [r.y, r.mean, r.invStd]; };
    }, note),
    elementwise('batchnorm.infer', name, x, batchNormCost(N, C, S, 'infer'), (i) => {
      const [xv, [g, b, rm, rv]] = [i.make(x), perChannel(i)];
      return () => batchNormInfer(xv, g, b, rm, rv, o);
    }),
    elementwise('batchnorm.backward', name, xt, batchNormCost(trainN, C, S, 'backward'), (i) => {
      const [xv, dy, g, mean, invStd] = [i.make(xt), i.make(xt), i.make([C]), i.make([C], -0.5, 0.5), i.make([C], 0.5, 2)];
      return () => { const r = batchNormBackward(xv, dy, g, mean, invStd); return [r.dx, r.dgamma, r.dbeta]; };
    }, note),
  ];
}

function poolCases(name: string, x: Shape, layer: MaxPool2D): KernelCase[] {
  const g = pool2dGeometry(x, layer.opts);
  const y = [g.N, g.C, g.OH, g.OW];
  return [
    elementwise('maxpool2d.forward', name, x, maxPool2dCost(g, 'forward'), (i) => { const xv = i.make(x); return () => maxPool2d(xv, layer.opts); }),
    elementwise('maxpool2d.backward', name, x, maxPool2dCost(g, 'backward'), (i) => {
      const [xv, dy] = [i.make(x), i.make(y)];
      return () => maxPool2dBackward(xv, dy, layer.opts);
    }),
  ];
}

function globalPoolCases(name: string, x: Shape): KernelCase[] {
  const [N, C] = x;
  const S = x.slice(2).reduce((p, q) => p * q, 1);
  return [
    elementwise('global_avg_pool.forward', name, x, globalAvgPoolCost(N, C, S, 'forward'), (i) => { const xv = i.make(x); return () => globalAvgPool(xv); }),
    elementwise('global_avg_pool.backward', name, x, globalAvgPoolCost(N, C, S, 'backward'), (i) => {
      const dy = i.make([N, C]);
      return () => globalAvgPoolBackward(dy, x);
    }),
  ];
}

/** A ReLU layer of its own (conv → BN → relu) runs the elementwise forward too, not a fused store. */
function reluLayerCases(name: string, y: Shape): KernelCase[] {
  const n = y.reduce((p, q) => p * q, 1);
  return [elementwise('relu.forward', name, y, reluCost(n, 'forward'), (i) => { const xv = i.make(y, -1, 1); return () => relu(xv); }), ...reluCases(name, y)];
}

function dropoutCases(name: string, x: Shape, layer: Dropout): KernelCase[] {
  const n = x.reduce((p, q) => p * q, 1);
  return [
    elementwise('dropout.forward', name, x, dropoutCost(n), (i) => { const xv = i.make(x); return () => dropout(xv, layer.rate, i.rng.seed()); }),
    elementwise('dropout.backward', name, x, dropoutCost(n), (i) => { const dy = i.make(x); return () => dropoutBackward(dy, layer.rate, i.rng.seed()); }),
  ];
}

function lossCase(batch: number, classes: number): KernelCase {
  return elementwise('softmax-cross-entropy', 'loss', [batch, classes], softmaxCrossEntropyCost(batch, classes), (i) => {
    const logits = i.make([batch, classes], -3, 3);
    const labels = i.own(tensor(Float32Array.from({ length: batch }, () => i.rng.int(classes)), [batch], logits.backend));
    return () => {
      const r = softmaxCrossEntropy(logits, labels);
      return [r.loss, r.dlogits];
    };
  });
}

function optimizerCases(params: number): KernelCase[] {
  const shape = [params];
  const label = `${params.toLocaleString('en-US')} parameters`;
  const sgd: KernelCase = {
    ...elementwise('sgd', 'all trainable', shape, sgdCost(params), (i) => {
      const [p, g, v] = [i.make(shape), i.make(shape, -1e-3, 1e-3), i.make(shape, -1e-3, 1e-3)];
      return () => sgdUpdate(p, g, v, { lr: 1e-3, momentum: 0.9, weightDecay: 1e-4 });
    }),
    shape: label,
  };
  const adam: KernelCase = {
    ...elementwise('adam', 'all trainable', shape, adamCost(params), (i) => {
      const [p, g, m, v] = [i.make(shape), i.make(shape, -1e-3, 1e-3), i.make(shape, -1e-3, 1e-3), i.make(shape, 0, 1e-6)];
      let step = 0;
      return () => adamUpdate(p, g, m, v, ++step, { lr: 1e-3, weightDecay: 1e-4, decoupled: true });
    }),
    shape: label,
  };
  return [sgd, adam];
}

/**
 * Every kernel of `model`'s training step at batch size `batch`, in layer order, each distinct
 * (kernel, shape) once with the names of all the layers that share it. The model need not be
 * built: only its layer shapes are used.
 */
export function kernelCases(model: Sequential, batch: number): KernelCase[] {
  const out = new Map<string, KernelCase>();
  const add = (cases: KernelCase[]) => {
    for (const c of cases) {
      const key = `${c.kernel}|${c.shape}`;
      const seen = out.get(key);
      if (seen) seen.layers.push(...c.layers.filter((l) => !seen.layers.includes(l)));
      else out.set(key, c);
    }
  };
  model.layers.forEach((layer, i) => {
    const x = [batch, ...model.shapes[i]];
    const y = [batch, ...model.shapes[i + 1]];
    if (layer instanceof Conv2D) {
      add(convCases(layer.name, x, layer, batch));
      if (layer.opts.activation === 'relu') add(reluCases(layer.name, y));
      add([sumCase(layer.name, y)]);
    } else if (layer instanceof Dense) {
      add(denseCases(layer.name, x, layer));
      if (layer.opts.activation === 'relu') add(reluCases(layer.name, y));
      add([sumCase(layer.name, y)]);
    } else if (layer instanceof BatchNorm) add(batchNormCases(layer.name, x, layer));
    else if (layer instanceof MaxPool2D) add(poolCases(layer.name, x, layer));
    else if (layer instanceof GlobalAvgPool2D) add(globalPoolCases(layer.name, x));
    else if (layer instanceof ReLU) add(reluLayerCases(layer.name, y));
    else if (layer instanceof Dropout) add(dropoutCases(layer.name, x, layer));
  });
  add([lossCase(batch, model.classes.length)]);
  add(optimizerCases(trainableParams(model)));
  return [...out.values()];
}

/** Weights and biases the optimizer updates (batch norm's running statistics are not). */
export function trainableParams(model: Sequential): number {
  let n = 0;
  model.layers.forEach((layer, i) => {
    const x = model.shapes[i];
    if (layer instanceof Conv2D) n += layer.opts.filters * (x[0] * layer.opts.kernelSize ** 2 + 1);
    else if (layer instanceof Dense) n += layer.opts.units * (x[0] + 1);
    else if (layer instanceof BatchNorm) n += 2 * x[0];
  });
  return n;
}

/** Whole-model FLOPs per batch, counting the GEMMs only (convolutions and dense layers). */
export function modelFlops(model: Sequential, batch: number, mode: 'forward' | 'train'): number {
  let flops = 0;
  model.layers.forEach((layer, i) => {
    if (!(layer instanceof Conv2D || layer instanceof Dense)) return;
    const forward = 2 * layer.macs(model.shapes[i]) * batch;
    // Training adds dW and dx, each a product of the same size; the first layer's dx is not computed.
    flops += mode === 'forward' ? forward : forward * (i === 0 ? 2 : 3);
  });
  return flops;
}
