import { expect } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { Random } from '../../src/backend/random.ts';
import { keep } from '../../src/backend/scope.ts';
import type { Shape } from '../../src/backend/tensor.ts';
import type { Layer, Param } from '../../src/nn/layer.ts';
import { expectClose } from '../support/compare.ts';
import { dot, expectGradient, toF64 } from '../support/gradcheck.ts';
import { randomArray, randomInt } from '../support/random.ts';
import { float64Forward, type Float64Pass } from './float64-net.ts';

/**
 * The layers run on float32 tensors; the specification (float64-net.ts) and its finite
 * differences run in float64, so what separates the two is the float32 rounding of the layer
 * alone. Each output or gradient element here is a sum of at most a few hundred float32 terms,
 * whose rounding error grows like √n·u ≤ 20·6e-8 ≈ 1e-6 of the largest term (measured: under
 * 1e-7 normwise). A wrong index, a missing relu mask or a transposed product errs by order 1.
 * (The finite differences themselves are good to about 1e-9: step 1e-6 in float64.)
 */
export const FLOAT32_TOLERANCE = 1e-6;
export const STEP = 1e-6;

/**
 * Inputs are redrawn until every relu pre-activation and every pooling window's runner-up is at
 * least MARGIN from its kink. A step of 1e-6 moves any of them by well under 1e-4 (the
 * sensitivities here are at most about 10), so no finite difference straddles a kink.
 */
export const MARGIN = 1e-4;

/**
 * Parameters as they stand some way into training rather than at initialisation: biases and
 * batch-norm shifts away from 0 and scales away from 1, so a forward pass that forgot one of
 * them would show, and no relu sits exactly at its kink because its input and bias are both 0.
 */
export function randomizeParams(layers: readonly Layer[]): void {
  for (const l of layers) {
    for (const p of l.params()) {
      const role = p.name.slice(p.name.lastIndexOf('.') + 1);
      if (role === 'weight') continue;
      const n = p.value.size;
      setParamValue(p, role === 'gamma' ? randomArray(n, 0.5, 1.5) : role === 'running_var' ? randomArray(n, 0.5, 2) : randomArray(n, -0.3, 0.3));
    }
  }
}

/** Replaces a parameter's tensor with `values`, same shape, on the same backend. */
export function setParamValue(p: Param, values: Float32Array): void {
  const old = p.value;
  p.value = keep(tensor(values, old.shape, old.backend));
  old.dispose();
}

export async function float64Params(layers: readonly Layer[]): Promise<Map<string, Float64Array>> {
  const out = new Map<string, Float64Array>();
  for (const l of layers) for (const p of l.params()) out.set(p.name, toF64(await p.value.read()));
  return out;
}

/**
 * Random x [N, ...shapes[0]] far from every kink of the float64 net (see MARGIN), and, given
 * `accept`, whose float64 pass it accepts too.
 */
export function drawInput(
  layers: readonly Layer[], shapes: readonly Shape[], params: Map<string, Float64Array>, N: number, dropSeed: number,
  accept: (pass: Float64Pass) => boolean = () => true,
): Float32Array {
  const size = N * shapes[0].reduce((a, b) => a * b, 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    const x = randomArray(size);
    const pass = float64Forward(layers, shapes, params, toF64(x), N, { training: true, rng: new Random(dropSeed) });
    if (pass.margin >= MARGIN && accept(pass)) return x;
  }
  throw new Error('drawInput: 50 draws, each within 1e-4 of a kink or refused by accept');
}

/**
 * One layer, built on the CPU: its training forward must match the float64 twin, and its
 * backward (with dy = r, so that L = Σ y·r) must give the finite-difference gradients of
 * Σ twin(x)·r with respect to x and to every trainable parameter.
 */
export async function checkLayer(layer: Layer, name: string, inShape: Shape, N: number): Promise<void> {
  layer.name = name;
  const shapes = [inShape, layer.outputShape(inShape)];
  layer.build(inShape, new Random(randomInt(0, 2 ** 31)), 'cpu');
  randomizeParams([layer]);
  const params = await float64Params([layer]);
  const dropSeed = randomInt(0, 2 ** 31);
  const x = drawInput([layer], shapes, params, N, dropSeed);
  const spec = (x64: Float64Array) => float64Forward([layer], shapes, params, x64, N, { training: true, rng: new Random(dropSeed) }).y;
  const want = spec(toF64(x));

  const y = layer.forward(tensor(x, [N, ...inShape], 'cpu'), { training: true, rng: new Random(dropSeed) });
  expect(y.shape).toEqual([N, ...shapes[1]]);
  expectClose(await y.read(), want, FLOAT32_TOLERANCE, `${name} forward`);
  const r = randomArray(want.length);
  const dx = layer.backward(tensor(r, y.shape, 'cpu'), true);
  expect(dx).not.toBeNull();
  expect(dx!.shape).toEqual([N, ...inShape]);
  const x64 = toF64(x);
  expectGradient(`${name} dx`, x64, (v) => dot(spec(v), r), await dx!.read(), { h: STEP, tol: FLOAT32_TOLERANCE });
  for (const p of layer.params().filter((q) => q.trainable)) {
    expect(p.grad, `${p.name} grad`).not.toBeNull();
    expect(p.grad!.shape).toEqual(p.value.shape);
    const values = params.get(p.name)!;
    expectGradient(p.name, values, () => dot(spec(x64), r), await p.grad!.read(), { h: STEP, tol: FLOAT32_TOLERANCE });
  }
}
