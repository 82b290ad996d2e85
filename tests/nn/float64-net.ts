import type { Random } from '../../src/backend/random.ts';
import type { Shape } from '../../src/backend/tensor.ts';
import { BatchNorm } from '../../src/nn/batchnorm.ts';
import { Conv2D } from '../../src/nn/conv2d.ts';
import { Dense } from '../../src/nn/dense.ts';
import { Dropout } from '../../src/nn/dropout.ts';
import { Flatten } from '../../src/nn/flatten.ts';
import type { Layer } from '../../src/nn/layer.ts';
import { GlobalAvgPool2D, MaxPool2D } from '../../src/nn/pooling.ts';
import { ReLU } from '../../src/nn/activation.ts';
import { globalAvgPoolBackwardRef, globalAvgPoolRef, globalPoolGeometry } from '../../src/ops/global-avg-pool.ts';
import { batchNormBackwardRef, batchNormInferRef, batchNormTrainRef } from '../../src/ops/batchnorm.ts';
import { conv2dBackwardFilterRef, conv2dBackwardInputRef, conv2dGeometry, conv2dRef } from '../../src/ops/conv2d.ts';
import { dropoutBackwardRef, dropoutRef } from '../../src/ops/dropout.ts';
import { matmulRef } from '../../src/ops/matmul.ts';
import { maxPool2dBackwardRef, maxPool2dRef, pool2dGeometry, windowArgmax } from '../../src/ops/maxpool2d.ts';
import { sumChannelsRef } from '../../src/ops/reduce.ts';
import { reluBackwardRef } from '../../src/ops/relu.ts';

/**
 * A network's forward pass in float64, composed from the ops' CPU reference functions (each one
 * checked against finite differences in tests/ops). It is the specification the layers are held
 * to: the float32 layers must compute the same function, and their backward passes its gradient.
 *
 * It also reports how far the input sits from the places where the function is not smooth: the
 * smallest |pre-activation| of a relu and the smallest gap between the two largest values of a
 * pooling window. A finite difference that steps over such a kink measures the wrong slope, so
 * gradient tests draw inputs until this margin is far wider than the step. Exact ties in a
 * window are left out: in float64 they only arise from values computed identically (relu zeros
 * normalised by the same channel statistics), which move together and stay tied.
 */
export interface Float64Pass {
  y: Float64Array;
  margin: number;
  /** What each layer's backward needs: its input, its output, batch statistics, the mask seed. */
  trace: LayerTrace[];
}

export interface LayerTrace {
  x: Float64Array;
  y: Float64Array;
  mean?: Float64Array;
  invStd?: Float64Array;
  seed?: number;
}

const sizeOf = (s: Shape) => s.reduce((a, b) => a * b, 1);

function reluWithMargin(z: Float64Array, state: { margin: number }): Float64Array {
  const y = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    state.margin = Math.min(state.margin, Math.abs(z[i]));
    y[i] = Math.max(0, z[i]);
  }
  return y;
}

/**
 * Runs `layers` (built, named) on x [N, ...shapes[0]] with parameters from `params` (name →
 * float64 values). Running statistics are read, never written. `rng` must be seeded as the one
 * given to the layers' forward, so that Dropout draws the same mask seeds in the same order.
 */
export function float64Forward(
  layers: readonly Layer[],
  shapes: readonly Shape[],
  params: Map<string, Float64Array>,
  x: Float64Array,
  N: number,
  ctx: { training: boolean; rng?: Random },
): Float64Pass {
  const state = { margin: Number.POSITIVE_INFINITY };
  const p = (l: Layer, role: string) => {
    const v = params.get(`${l.name}.${role}`);
    if (!v) throw new Error(`float64Forward: no parameter ${l.name}.${role}`);
    return v;
  };
  let h = x;
  const trace: LayerTrace[] = [];
  layers.forEach((l, i) => {
    const inShape = shapes[i];
    const outShape = shapes[i + 1];
    const out = new Float64Array(N * sizeOf(outShape));
    const t: LayerTrace = { x: h, y: h };
    trace.push(t);
    if (l instanceof Conv2D) {
      const { filters, kernelSize, stride, padding, activation } = l.opts;
      const g = conv2dGeometry([N, ...inShape], [filters, inShape[0], kernelSize, kernelSize], { stride, padding });
      conv2dRef(g, h, p(l, 'weight'), p(l, 'bias'), out);
      h = activation === 'relu' ? reluWithMargin(out, state) : out;
    } else if (l instanceof Dense) {
      matmulRef(h, p(l, 'weight'), p(l, 'bias'), out, N, l.opts.units, inShape[0], false, true);
      h = l.opts.activation === 'relu' ? reluWithMargin(out, state) : out;
    } else if (l instanceof BatchNorm) {
      const C = inShape[0];
      const S = inShape.length === 3 ? inShape[1] * inShape[2] : 1;
      const g = { N, C, S, M: N * S };
      const running = [p(l, 'running_mean').slice(), p(l, 'running_var').slice()];
      if (ctx.training) {
        const o = { eps: l.opts.eps, momentum: l.opts.momentum };
        t.mean = new Float64Array(C);
        t.invStd = new Float64Array(C);
        batchNormTrainRef(g, h, p(l, 'gamma'), p(l, 'beta'), running[0], running[1], o, out, t.mean, t.invStd);
      } else {
        batchNormInferRef(g, h, p(l, 'gamma'), p(l, 'beta'), running[0], running[1], l.opts.eps, out);
      }
      h = out;
    } else if (l instanceof MaxPool2D) {
      const g = pool2dGeometry([N, ...inShape], l.opts);
      maxPool2dRef(g, h, out);
      for (let plane = 0; plane < g.N * g.C; plane++) {
        for (let oh = 0; oh < g.OH; oh++) {
          for (let ow = 0; ow < g.OW; ow++) {
            const best = windowArgmax(g, h, plane, oh, ow);
            for (let r = 0; r < g.size; r++) {
              for (let s = 0; s < g.size; s++) {
                const ih = oh * g.stride + r - g.padTop;
                const iw = ow * g.stride + s - g.padLeft;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                const j = (plane * g.H + ih) * g.W + iw;
                if (h[j] !== h[best]) state.margin = Math.min(state.margin, h[best] - h[j]);
              }
            }
          }
        }
      }
      h = out;
    } else if (l instanceof GlobalAvgPool2D) {
      globalAvgPoolRef(globalPoolGeometry([N, ...inShape]), h, out);
      h = out;
    } else if (l instanceof ReLU) {
      h = reluWithMargin(h, state);
    } else if (l instanceof Flatten) {
      h = h.slice();
    } else if (l instanceof Dropout) {
      if (ctx.training && l.rate > 0) {
        if (!ctx.rng) throw new Error('float64Forward: training with Dropout needs ctx.rng');
        t.seed = ctx.rng.seed();
        dropoutRef(h, out, l.rate, t.seed);
        h = out;
      }
    } else {
      throw new Error(`float64Forward: no float64 twin for layer type ${l.type}`);
    }
    t.y = h;
  });
  return { y: h, margin: state.margin, trace };
}

/**
 * The backward pass of a training-mode float64Forward, from the gradient of its output: each
 * trainable parameter's gradient, composed from the reference backward functions.
 */
export function float64Backward(
  layers: readonly Layer[],
  shapes: readonly Shape[],
  params: Map<string, Float64Array>,
  pass: Float64Pass,
  N: number,
  dy: Float64Array,
  /** If given, receives the gradient of each layer's output, by layer index. */
  outputGrads?: Float64Array[],
): Map<string, Float64Array> {
  const grads = new Map<string, Float64Array>();
  const p = (l: Layer, role: string) => params.get(`${l.name}.${role}`)!;
  let g = dy;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    if (outputGrads) outputGrads[i] = g;
    const t = pass.trace[i];
    const inShape = shapes[i];
    const dx = new Float64Array(t.x.length);
    const masked = (relu: boolean) => {
      if (!relu) return g;
      const dz = new Float64Array(g.length);
      reluBackwardRef(t.y, g, dz);
      return dz;
    };
    if (l instanceof Conv2D) {
      const { filters, kernelSize, stride, padding, activation } = l.opts;
      const geo = conv2dGeometry([N, ...inShape], [filters, inShape[0], kernelSize, kernelSize], { stride, padding });
      const dz = masked(activation === 'relu');
      const dw = new Float64Array(p(l, 'weight').length);
      conv2dBackwardFilterRef(geo, t.x, dz, dw);
      const db = new Float64Array(filters);
      sumChannelsRef(dz, N, filters, geo.OH * geo.OW, db);
      grads.set(`${l.name}.weight`, dw).set(`${l.name}.bias`, db);
      if (i > 0) conv2dBackwardInputRef(geo, dz, p(l, 'weight'), dx);
    } else if (l instanceof Dense) {
      const units = l.opts.units;
      const inputs = inShape[0];
      const dz = masked(l.opts.activation === 'relu');
      const dw = new Float64Array(units * inputs);
      matmulRef(dz, t.x, null, dw, units, inputs, N, true, false);
      const db = new Float64Array(units);
      sumChannelsRef(dz, N, units, 1, db);
      grads.set(`${l.name}.weight`, dw).set(`${l.name}.bias`, db);
      if (i > 0) matmulRef(dz, p(l, 'weight'), null, dx, N, inputs, units);
    } else if (l instanceof BatchNorm) {
      const C = inShape[0];
      const S = inShape.length === 3 ? inShape[1] * inShape[2] : 1;
      const dgamma = new Float64Array(C);
      const dbeta = new Float64Array(C);
      batchNormBackwardRef({ N, C, S, M: N * S }, t.x, g, p(l, 'gamma'), t.mean!, t.invStd!, dx, dgamma, dbeta);
      grads.set(`${l.name}.gamma`, dgamma).set(`${l.name}.beta`, dbeta);
    } else if (l instanceof MaxPool2D) {
      maxPool2dBackwardRef(pool2dGeometry([N, ...inShape], l.opts), t.x, g, dx);
    } else if (l instanceof GlobalAvgPool2D) {
      globalAvgPoolBackwardRef(globalPoolGeometry([N, ...inShape]), g, dx);
    } else if (l instanceof ReLU) {
      reluBackwardRef(t.y, g, dx);
    } else if (l instanceof Flatten) {
      dx.set(g);
    } else if (l instanceof Dropout) {
      if (t.seed === undefined) dx.set(g);
      else dropoutBackwardRef(g, dx, l.rate, t.seed);
    } else {
      throw new Error(`float64Backward: no float64 twin for layer type ${l.type}`);
    }
    g = dx;
  }
  return grads;
}
