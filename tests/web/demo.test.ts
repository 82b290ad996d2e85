// The demo page in a real Chromium: astronaut.png gives one face with the probabilities
// `fer predict --json` gives in Node, on WebGPU and on the CPU path, and the page says which;
// the browser decodes the PNG to the very bytes pngjs does; the webcam loop runs; the library's
// bad-input errors are one line each.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { artifact, ASTRONAUT, exposeFer, hasAstronaut, hasCascade, hasChromium, launch, openPage, ROOT, testModelPath, type FerModule } from './browser.ts';

declare const fer: FerModule;

interface CliFace {
  box: { x: number; y: number; width: number; height: number };
  probabilities: number[];
  emotion: string;
}

// The page and the CLI run the same detector on the same bytes and the same float32 network;
// WebGPU sums in another order (relative error ~1e-6 of the logits), far inside 1e-3 on a
// probability. The CLI prints probabilities rounded to 1e-6.
const PROBABILITY_TOLERANCE = 1e-3;

const timings: Record<string, number> = {};

async function classifyAstronaut(page: Page, url: string): Promise<{ backend: string; badge: string; faces: CliFace[]; caveat: string | null }> {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('backend')!.dataset.backend !== 'loading');
  await page.setInputFiles('#file', ASTRONAUT);
  await page.waitForSelector('#stage[data-results="1"]', { timeout: 60_000 });
  const faces = await page.$$eval('.face-card', (cards) =>
    cards.map((c) => ({ box: JSON.parse(c.dataset.box!), probabilities: JSON.parse(c.dataset.probabilities!), emotion: c.dataset.emotion! })),
  );
  const caveat = await page.$eval('#caveat', (e) => ((e as HTMLElement).hidden ? null : e.textContent));
  return { backend: (await page.getAttribute('#backend', 'data-backend'))!, badge: (await page.textContent('#backend'))!, faces, caveat };
}

/** Classifies the photo once more (pipelines compiled, buffers pooled): the per-face time a user sees. */
async function warmClassifyMs(page: Page): Promise<number> {
  await page.setInputFiles('#file', ASTRONAUT);
  await page.waitForSelector('#stage[data-results="2"]', { timeout: 60_000 });
  return Number(await page.getAttribute('#timing', 'data-classify-ms'));
}

function expectSameFace(page: CliFace[], cli: CliFace[]): void {
  expect(page).toHaveLength(1);
  expect(cli).toHaveLength(1);
  expect(page[0].box).toEqual(cli[0].box);
  expect(page[0].emotion).toBe(cli[0].emotion);
  page[0].probabilities.forEach((p, k) => expect(Math.abs(p - cli[0].probabilities[k]), `class ${k}: page ${p}, fer predict ${cli[0].probabilities[k]}`).toBeLessThanOrEqual(PROBABILITY_TOLERANCE));
}

describe.skipIf(!hasChromium || !hasAstronaut || !hasCascade)('demo page, astronaut.png', () => {
  let server: RunningServer;
  let browser: Browser;
  let cli: { faces: CliFace[]; warning: string | null };

  beforeAll(async () => {
    const model = await testModelPath();
    const runCli = promisify(execFile)(process.execPath, ['src/cli/fer.mjs', 'predict', '--json', '--backend', 'cpu', '--model', model, ASTRONAUT], { cwd: ROOT });
    const [s, b, out] = await Promise.all([startServer({ model }), launch(), runCli]);
    server = s;
    browser = b;
    const json = JSON.parse(out.stdout);
    cli = { faces: json.results[0].faces, warning: json.model.warning };
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    writeFileSync(artifact('web-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  });

  it('on WebGPU (asked for: the only adapter here is software): one face, the probabilities of fer predict --json, and the page says webgpu', async () => {
    const { page, errors } = await openPage(browser, { webgpu: true });
    const got = await classifyAstronaut(page, `${server.url}?backend=webgpu`);
    expect(got.backend).toBe('webgpu');
    expect(got.badge).toMatch(/^WebGPU on \S/);
    console.log(`[web] WebGPU adapter reported by the page: ${got.badge.replace(/^WebGPU on /, '')}`);
    expectSameFace(got.faces, cli.faces);
    // The model's caveat is on the page exactly when fer predict has one.
    expect(got.caveat !== null).toBe(cli.warning !== null);
    timings.webgpuFirstClassifyMs = Number(await page.getAttribute('#timing', 'data-classify-ms'));
    timings.webgpuDetectMs = Number(await page.getAttribute('#timing', 'data-detect-ms'));
    await page.screenshot({ path: artifact('demo-webgpu.png') });
    timings.webgpuPerFaceMs = await warmClassifyMs(page);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('without navigator.gpu: the WebAssembly kernels (the page is cross-origin isolated: shared memory), the same probabilities, and the page says why', async () => {
    const { page, errors } = await openPage(browser, { webgpu: false });
    const got = await classifyAstronaut(page, server.url);
    expect(got.backend).toBe('wasm');
    expect(got.badge).toBe('WebAssembly — WebAssembly SIMD, 1 thread (the main thread of a page cannot wait for threads; a worker gets them); navigator.gpu is not available');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expectSameFace(got.faces, cli.faces);
    timings.wasmDetectMs = Number(await page.getAttribute('#timing', 'data-detect-ms'));
    await page.screenshot({ path: artifact('demo-wasm.png') });
    timings.wasmPerFaceMs = await warmClassifyMs(page);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('with a software adapter and no choice made: WebAssembly, saying why the adapter was passed over', async () => {
    const { page, errors } = await openPage(browser, { webgpu: true });
    const got = await classifyAstronaut(page, server.url);
    expect(got.backend).toBe('wasm');
    expect(got.badge).toMatch(/^WebAssembly — WebAssembly SIMD, 1 thread .*; the only WebGPU adapter, .* is a software renderer \(\?backend=webgpu uses it anyway\)$/);
    expectSameFace(got.faces, cli.faces);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('?backend=cpu: the TypeScript path, the same probabilities, and the page says cpu and why', async () => {
    const { page, errors } = await openPage(browser, { webgpu: false });
    const got = await classifyAstronaut(page, `${server.url}?backend=cpu`);
    expect(got.backend).toBe('cpu');
    expect(got.badge).toBe('CPU — the TypeScript backend was asked for');
    expectSameFace(got.faces, cli.faces);
    timings.cpuDetectMs = Number(await page.getAttribute('#timing', 'data-detect-ms'));
    await page.screenshot({ path: artifact('demo-cpu.png') });
    timings.cpuPerFaceMs = await warmClassifyMs(page);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('decodes the PNG to the RGBA bytes pngjs gives in Node', async () => {
    const bytes = readFileSync(ASTRONAUT);
    const node = decodeImage(new Uint8Array(bytes), ASTRONAUT);
    const want = createHash('sha256').update(node.data).digest('hex');
    const { page } = await openPage(browser, { webgpu: false });
    await page.goto(server.url);
    await exposeFer(page);
    const got = await page.evaluate(async (b64) => {
      const { decodeImageFile, readPixels } = fer;
      const png = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const img = readPixels(await decodeImageFile(new Blob([png], { type: 'image/png' })));
      const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', img.data as Uint8ClampedArray<ArrayBuffer>));
      return { width: img.width, height: img.height, hash: Array.from(hash, (x) => x.toString(16).padStart(2, '0')).join('') };
    }, bytes.toString('base64'));
    expect(got).toEqual({ width: node.width, height: node.height, hash: want });
    await page.close();
  });

  it('webcam: the video is drawn every frame while the model runs in a worker, and a result arrives', async () => {
    const cam = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
    try {
      const { page, errors } = await openPage(cam, { webgpu: false });
      await page.goto(server.url);
      await page.waitForFunction(() => !(document.getElementById('webcam') as HTMLButtonElement).disabled);
      await page.click('#webcam');
      await page.waitForSelector('#stage[data-state="webcam"]', { timeout: 30_000 });
      expect(await page.textContent('#webcam')).toBe('Stop webcam');
      // Chromium's fake camera animates: two reads of the canvas a moment apart differ.
      const frame = () => page.$eval('#view', (c) => (c as HTMLCanvasElement).toDataURL());
      const a = await frame();
      await page.waitForTimeout(300);
      expect(await frame()).not.toBe(a);
      expect(Number(await page.getAttribute('#timing', 'data-detect-ms'))).toBeGreaterThan(0);
      expect(await page.textContent('#timing')).toContain('model in a worker on wasm');
      await page.screenshot({ path: artifact('demo-webcam.png') });
      await page.click('#webcam');
      expect(await page.textContent('#webcam')).toBe('Start webcam');
      expect(errors).toEqual([]);
    } finally {
      await cam.close();
    }
  });

  it('the library rejects bad input with one-line errors', async () => {
    const { page } = await openPage(browser, { webgpu: false });
    await page.goto(server.url);
    await exposeFer(page);
    const messages = await page.evaluate(async () => {
      const fail = async (f: () => Promise<unknown>) => {
        try {
          await f();
          return 'no error';
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      const model = await fer.loadModel('/model.safetensors', { backend: 'cpu' });
      return {
        layers: String(model.layers.length),
        missing: await fail(() => fer.loadModel('/missing.safetensors')),
        notModel: await fail(() => fer.loadModel('/cascade.xml', { cascade: null })),
        badSource: await fail(() => fer.loadModel(42 as unknown as string)),
        badBackend: await fail(() => fer.loadModel('/model.safetensors', { backend: 'tpu' as 'cpu' })),
        noGpu: await fail(() => fer.loadModel('/model.safetensors', { backend: 'webgpu' })),
        missingCascade: await fail(() => fer.loadModel('/model.safetensors', { cascade: '/nope.xml' })),
        unloadedImage: await fail(() => model.predict(new Image())),
        badLayer: await fail(() => model.activation(new Float32Array(48 * 48), 99)),
        badInput: await fail(() => model.activation(new Float32Array(10), 0)),
        badRuns: await fail(() => model.timeLayer(0, new Float32Array(48 * 48), 0)),
        disposed: await fail(async () => {
          const m = await fer.loadModel('/model.safetensors', { backend: 'cpu', cascade: null });
          m.dispose();
          return m.predict(new ImageData(48, 48), { detect: false });
        }),
        noCascade: await fail(async () => (await fer.loadModel('/model.safetensors', { backend: 'cpu', cascade: null })).predict(new ImageData(48, 48))),
      };
    });
    expect(messages.missing).toBe('FerError: loadModel: the model /missing.safetensors answered 404 Not Found');
    expect(messages.notModel).toMatch(/^FerError: \/cascade\.xml: /);
    expect(messages.badSource).toBe('FerError: loadModel: source must be a URL, an ArrayBuffer or a Uint8Array, got Number');
    expect(messages.badBackend).toBe(`FerError: loadModel: backend must be 'auto', 'webgpu', 'wasm' or 'cpu', got "tpu"`);
    expect(messages.noGpu).toBe("FerError: loadModel: backend 'webgpu' asked for, but navigator.gpu is not available");
    expect(messages.missingCascade).toBe('FerError: loadModel: the face cascade /nope.xml answered 404 Not Found');
    expect(messages.unloadedImage).toBe('FerError: predict: the HTMLImageElement has no pixels yet (0×0); wait until it has loaded');
    expect(messages.badLayer).toBe(`FerError: activation: layer must be an integer in [0, ${Number(messages.layers) - 1}], got 99`);
    expect(messages.badInput).toBe('FerError: activation: input must be a Float32Array of 48·48 values, got 10');
    expect(messages.badRuns).toBe('FerError: timeLayer: runs must be a positive integer, got 0');
    expect(messages.disposed).toMatch(/^FerError: .*disposed/);
    expect(messages.noCascade).toMatch(/^FerError: predict: this model was loaded with cascade: null/);
    for (const m of Object.values(messages)) expect(m).not.toContain('\n');
    await page.close();
  });
});
