// A page built with a bundler: `npx esbuild main.js --bundle --format=esm --outfile=main.bundle.js`.
// Trains a two-layer network on WebGPU when the browser has it (else the CPU path) and shows
// the loss falling. ?backend=cpu in the URL forces the CPU path.
import { adam, Dense, defaultBackend, fit, predictClasses, Random, Sequential, useBackend } from 'fer-webgpu/engine';

const out = document.getElementById('out');
const wish = new URLSearchParams(location.search).get('backend') ?? 'auto';
try {
  const { backend, reason } = await useBackend(wish);
  const rng = new Random(7);
  const count = 256;
  const x = new Float32Array(count * 2);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    x[2 * i] = rng.uniform(-1, 1);
    x[2 * i + 1] = rng.uniform(-1, 1);
    y[i] = x[2 * i] * x[2 * i + 1] > 0 ? 1 : 0;
  }
  const model = new Sequential('quadrants', [new Dense({ units: 16, activation: 'relu' }), new Dense({ units: 2 })], [2], ['different', 'same']);
  model.build(new Random(1), defaultBackend());
  const steps = await fit(model, adam({ lr: 0.03 }), { x, y, count }, {
    epochs: 20,
    batchSize: 32,
    onStep: (s) => void (out.textContent = `${backend}: step ${s.step}, loss ${s.loss.toFixed(4)}`),
  });
  const pred = await predictClasses(model, x);
  const accuracy = pred.filter((p, i) => p === y[i]).length / count;
  const result = { backend, reason, firstLoss: steps[0].loss, lastLoss: steps.at(-1).loss, accuracy };
  out.textContent = JSON.stringify(result);
  out.dataset.result = JSON.stringify(result);
} catch (e) {
  out.textContent = `failed: ${e.message}`;
  out.dataset.error = e.message;
}
