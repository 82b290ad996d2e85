// Node: train a two-layer network with the engine, save and reload it as a safetensors file,
// then classify a drawn face with the shipped emotion model. Run: node node-train.mjs [cpu|webgpu|auto]
import { adam, Dense, defaultBackend, fit, modelFromBytes, modelToBytes, predictClasses, Random, Sequential, syntheticFaces, useBackend } from 'fer-webgpu/engine';
import { loadModel } from 'fer-webgpu';

const { backend, reason } = await useBackend(process.argv[2] ?? 'cpu');

// Points in the square, labelled by the sign of x·y: no straight line separates the classes.
const rng = new Random(7);
const count = 512;
const x = new Float32Array(count * 2);
const y = new Uint8Array(count);
for (let i = 0; i < count; i++) {
  x[2 * i] = rng.uniform(-1, 1);
  x[2 * i + 1] = rng.uniform(-1, 1);
  y[i] = x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0;
}
const model = new Sequential('quadrants', [new Dense({ units: 16, activation: 'relu' }), new Dense({ units: 2 })], [2], ['different', 'same']);
model.build(new Random(1), defaultBackend());
const steps = await fit(model, adam({ lr: 0.03 }), { x, y, count }, { epochs: 25, batchSize: 32 });

// A model file: weights plus the architecture, so it loads with nothing else.
const reloaded = modelFromBytes(await modelToBytes(model), 'quadrants', backend).model;
const pred = await predictClasses(reloaded, x);
const accuracy = pred.filter((p, i) => p === y[i]).length / count;

// The emotion model shipped in the package, on one 48×48 drawn face (no detection: it is a face crop).
const emotions = await loadModel(new URL(import.meta.resolve('fer-webgpu/models/fer.safetensors')), { cascade: null, backend });
const face = syntheticFaces({ count: 1, seed: 3 });
const { faces } = await emotions.predict({ width: 48, height: 48, channels: 1, data: face.images }, { detect: false });

console.log(JSON.stringify({ backend, reason, firstLoss: steps[0].loss, lastLoss: steps.at(-1).loss, accuracy, emotion: faces[0].emotion }));
