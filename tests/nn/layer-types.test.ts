import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/backend/random.ts';
import type { Shape } from '../../src/backend/tensor.ts';
import type { Layer } from '../../src/nn/layer.ts';
import { LAYER_TYPES, layerFromConfig, type LayerType } from '../../src/nn/layer-config.ts';
import { checkLayer } from './layer-gradcheck.ts';

// What every layer type must bring (src/nn/layer.ts): a config that round-trips, a Keras name
// and twin, its parameter shapes before build, and a kernel plan. A type without an example here
// does not compile; a Layer class in src/nn missing from LAYER_TYPES fails below.
const EXAMPLES: Record<LayerType, { make: () => Layer; input: Shape; batch: number }> = {
  Conv2D: { make: () => layerFromConfig({ type: 'Conv2D', filters: 3, kernelSize: 3, stride: 2, padding: 'same', activation: 'relu' }), input: [2, 5, 6], batch: 2 },
  Dense: { make: () => layerFromConfig({ type: 'Dense', units: 4, activation: 'relu' }), input: [6], batch: 3 },
  BatchNorm: { make: () => layerFromConfig({ type: 'BatchNorm', momentum: 0.9, eps: 1e-3 }), input: [3, 2, 3], batch: 2 },
  MaxPool2D: { make: () => layerFromConfig({ type: 'MaxPool2D', size: 2, stride: 2, padding: 'valid' }), input: [2, 4, 5], batch: 2 },
  GlobalAvgPool2D: { make: () => layerFromConfig({ type: 'GlobalAvgPool2D' }), input: [3, 3, 4], batch: 2 },
  ReLU: { make: () => layerFromConfig({ type: 'ReLU' }), input: [2, 3, 3], batch: 2 },
  Flatten: { make: () => layerFromConfig({ type: 'Flatten' }), input: [2, 3, 3], batch: 2 },
  Dropout: { make: () => layerFromConfig({ type: 'Dropout', rate: 0.25 }), input: [10], batch: 4 },
};

/** Layers that never come from a model file: the fold makes them from trained layers. */
const NOT_IN_FILES = ['FusedConv2D', 'FusedDense'];

/** Layers whose inference forward dispatches nothing (a view; the identity), and those that never dispatch. */
const NO_INFERENCE_KERNEL: string[] = ['Flatten', 'Dropout'];
const NO_KERNEL: string[] = ['Flatten'];

const SHADERS = new URL('../../shaders/', import.meta.url).pathname;
const size = (s: Shape) => s.reduce((a, b) => a * b, 1);

describe('layer types: each owns its config, name, parameters, kernels and Keras twin', () => {
  it('every Layer class in src/nn is a registered type (or made only by the fold)', () => {
    const dir = new URL('../../src/nn/', import.meta.url).pathname;
    const classes = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(dir + f, 'utf8').matchAll(/export class (\w+) extends (?:Layer|FusedLayer)\b/g)].map((m) => m[1]));
    expect(classes.length).toBeGreaterThan(5);
    for (const c of classes) expect(Object.keys(LAYER_TYPES).includes(c) || NOT_IN_FILES.includes(c), `${c} is not in LAYER_TYPES`).toBe(true);
  });

  it('Keras names are distinct', () => {
    const names = Object.values(EXAMPLES).map((e) => e.make().kerasName);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const [type, ex] of Object.entries(EXAMPLES)) {
    describe(type, () => {
      it('its config round-trips through layerFromConfig', () => {
        const l = ex.make();
        expect(l.type).toBe(type);
        const again = layerFromConfig(JSON.parse(JSON.stringify(l.config())));
        expect(again.config()).toEqual(l.config());
      });

      it('paramShapes says what build makes', () => {
        const l = ex.make();
        l.name = 'l';
        l.build(ex.input, new Random(1), 'cpu');
        const built = l.params().map((p) => ({ role: p.name.slice(2), shape: [...p.value.shape], trainable: p.trainable }));
        expect(l.paramShapes(ex.input)).toEqual(built);
      });

      it('its kernel plan names existing WGSL files, has costs, and each kernel runs on the CPU', () => {
        const l = ex.make();
        const x = [ex.batch, ...ex.input];
        const plan = l.kernels(x);
        const inference = plan.filter((k) => k.inference);
        expect(inference.length === 0).toBe(NO_INFERENCE_KERNEL.includes(type));
        expect(plan.length === 0).toBe(NO_KERNEL.includes(type));
        for (const k of plan) {
          for (const f of k.shaders(null).files) expect(existsSync(SHADERS + f), `${k.kernel}: shaders/${f}`).toBe(true);
          expect(k.cost.flops + k.cost.bytes, k.kernel).toBeGreaterThan(0);
          const p = k.prepare('cpu');
          p.call();
          p.dispose();
        }
        // The first inference kernel reads the whole input (bytes count every element once).
        if (inference.length > 0) expect(inference[0].cost.bytes).toBeGreaterThanOrEqual(4 * size(x));
      });

      it('its float32 forward and backward match the float64 reference net', async () => {
        const l = ex.make();
        await checkLayer(l, l.kerasName, ex.input, ex.batch);
      });
    });
  }

  it("each Keras twin builds in TensorFlow.js with our output shape (NHWC)", async () => {
    const tf = (await import('@tensorflow/tfjs')) as unknown as {
      setBackend(b: string): Promise<boolean>;
      layers: Record<string, ((o: object) => { computeOutputShape(s: (number | null)[]): (number | null)[] }) | undefined>;
    };
    await tf.setBackend('cpu');
    const nhwc = (s: Shape) => (s.length === 3 ? [s[1], s[2], s[0]] : s);
    for (const [type, ex] of Object.entries(EXAMPLES)) {
      const k = ex.make().keras()!;
      const factory = tf.layers[k.factory];
      expect(factory, `${type}: tf.layers.${k.factory}`).toBeDefined();
      const out = factory!(k.options).computeOutputShape([null, ...nhwc(ex.input)]);
      expect(out.slice(1), type).toEqual(nhwc(ex.make().outputShape(ex.input)));
    }
  });
});
