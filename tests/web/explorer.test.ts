// The kernel explorer in a real Chromium on WebGPU: the demo's photo arrives, a convolution layer
// shows its filters, feature maps, WGSL source (teaching header first) and a synced timing; and
// the numbers behind it are the ones Node computes on the CPU.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src/backend/create.ts';
import { DEFAULT_CASCADE, loadCascadeFile } from '../../src/detect/cascade-file.ts';
import { detectFaces } from '../../src/detect/detect.ts';
import { faceInput } from '../../src/detect/recognize.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { toGray } from '../../src/image/image.ts';
import { modelFromBytes } from '../../src/nn/model-file.ts';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { expectClose, GPU_TOLERANCE } from '../support/compare.ts';
import { artifact, ASTRONAUT, exposeFer, hasAstronaut, hasCascade, hasChromium, launch, openPage, ROOT, testModelPath, type FerModule } from './browser.ts';
import { testTimeViews } from '../../src/nn/test-time.ts';

declare const fer: FerModule;

describe.skipIf(!hasChromium || !hasAstronaut || !hasCascade)('kernel explorer', () => {
  let server: RunningServer;
  let browser: Browser;
  let modelPath: string;

  beforeAll(async () => {
    modelPath = await testModelPath();
    [server, browser] = await Promise.all([startServer({ model: modelPath }), launch()]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("opens the demo's face, and a conv layer shows filters, feature maps, its WGSL and a timing", async () => {
    const { page, errors } = await openPage(browser, { webgpu: true });
    await page.goto(`${server.url}?backend=webgpu`);
    await page.waitForFunction(() => !(document.getElementById('file') as HTMLInputElement).disabled);
    await page.setInputFiles('#file', ASTRONAUT);
    await page.waitForSelector('#stage[data-results="1"]', { timeout: 60_000 });
    await page.click('nav a[href^="explorer.html"]');
    await page.waitForSelector('#timing[data-median-ms]', { timeout: 60_000 });
    expect(await page.textContent('#face-source')).toMatch(/first face in the demo's photo \(astronaut\.png\)/);
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('webgpu');

    // The second convolution: more than one input channel, so the filters are summed over them.
    const row = page.locator('#layers tr[data-type="Conv2D"]').nth(1);
    const index = (await row.getAttribute('data-index'))!;
    const [K, H, W] = (await row.locator('td').nth(2).textContent())!.split('×').map(Number);
    await row.click();
    await page.waitForFunction((i) => document.querySelector('#layers tr[aria-selected="true"]')?.getAttribute('data-index') === i && document.getElementById('timing')?.dataset.medianMs, index, {
      timeout: 60_000,
    });
    expect(await page.getAttribute('#maps', 'data-shape')).toBe(`${K}x${H}x${W}`);
    const maps = await page.$$eval('#maps .tile canvas', (cs) =>
      cs.map((c) => {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
        return { w: (c as HTMLCanvasElement).width, h: (c as HTMLCanvasElement).height, distinct: new Set(Array.from({ length: d.length / 4 }, (_, i) => d[4 * i] * 65536 + d[4 * i + 1] * 256 + d[4 * i + 2])).size };
      }),
    );
    expect(maps).toHaveLength(K);
    expect(maps.every((m) => m.w === W && m.h === H)).toBe(true);
    // Something was drawn: some channel shows more than one colour (the values are checked against Node below).
    expect(maps.filter((m) => m.distinct > 1).length).toBeGreaterThan(0);
    expect(await page.$$eval('#filters .tile canvas', (cs) => cs.length)).toBe(K);
    expect(await page.isVisible('#filter-channel')).toBe(true);
    expect(await page.textContent('#filters-note')).toMatch(/summed over its input channels/);

    const header = (file: string) => readFileSync(`${ROOT}/shaders/${file}`, 'utf8').split('\n')[0];
    // The shader files of the kernel that runs here: on a software adapter the direct
    // convolution (src/ops/conv2d-webgpu.ts's table), each tab showing its file's header.
    const tabs = (await page.$$eval('#kernel-tabs .tab', (ts) => ts.map((t) => t.textContent))) as string[];
    expect(tabs[0]).toBe('conv2d_direct.wgsl');
    expect(await page.getAttribute('#kernel-source', 'data-file')).toBe(tabs[0]);
    expect(await page.textContent('#kernel-source .doc')).toContain(header(tabs[0]));
    for (let i = 1; i < tabs.length; i++) {
      await page.click(`#kernel-tabs .tab:nth-child(${i + 1})`);
      await page.waitForSelector(`#kernel-source[data-file="${tabs[i]}"]`);
      expect(await page.textContent('#kernel-source .doc')).toContain(header(tabs[i]));
    }

    const ms = Number(await page.getAttribute('#timing', 'data-median-ms'));
    expect(ms).toBeGreaterThan(0);
    expect(await page.textContent('#timing b')).toMatch(/^\d+(\.\d+)? ms$/);
    console.log(`[web] explorer: layer ${index} forward on WebGPU (SwiftShader), median of 5: ${ms.toFixed(2)} ms`);
    await page.click('#kernel-tabs .tab:nth-child(1)');
    await page.waitForSelector(`#kernel-source[data-file="${tabs[0]}"]`);
    await page.screenshot({ path: artifact('explorer-webgpu.png'), fullPage: true });

    // A dense layer: matmul.wgsl in front of the GEMM core this adapter gets, the weights as one matrix.
    const dense = page.locator('#layers tr[data-type="Dense"]').first();
    const denseIndex = (await dense.getAttribute('data-index'))!;
    await dense.click();
    await page.waitForSelector('#kernel-source[data-file="matmul.wgsl"]');
    const denseTabs = await page.$$eval('#kernel-tabs .tab', (ts) => ts.map((t) => t.textContent));
    expect(denseTabs[0]).toBe('matmul.wgsl');
    expect(['gemm.wgsl', 'gemm_vec4.wgsl']).toContain(denseTabs[1]);
    expect(await page.textContent('#kernel-source .doc')).toContain(header('matmul.wgsl'));
    await page.waitForFunction((i) => document.querySelector('#layers tr[aria-selected="true"]')?.getAttribute('data-index') === i && document.getElementById('timing')?.dataset.medianMs, denseIndex);
    expect(await page.$$eval('#filters .wide canvas', (cs) => cs.length)).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the explorer's face crop equals Node's and its first activation matches the CPU backend", async () => {
    // Node: pngjs pixels → gray → the cascade's first face → 48×48 input → conv layer 0 on the CPU.
    const gray = toGray(decodeImage(new Uint8Array(readFileSync(ASTRONAUT)), ASTRONAUT));
    const box = detectFaces(gray, loadCascadeFile(DEFAULT_CASCADE))[0];
    const input = faceInput(gray, box);
    const { model } = modelFromBytes(new Uint8Array(readFileSync(modelPath)), modelPath, 'cpu');
    // a model trained on crops reads the face's centre crop
    const side = model.inputShape[1];
    const want = await model.layers[0].forward(tensor(testTimeViews(input, 1, 48, side, 'none')[0], [1, 1, side, side], 'cpu'), { training: false }).read();

    const { page } = await openPage(browser, { webgpu: true });
    await page.goto(`${server.url}explorer.html?backend=webgpu`);
    await exposeFer(page);
    const got = await page.evaluate(async (b64) => {
      const m = await fer.loadModel('/model.safetensors', { backend: 'webgpu' });
      const png = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const crop = m.faceCrop(await fer.decodeImageFile(new Blob([png], { type: 'image/png' })));
      const act = await m.activation(crop.input, 0);
      return { backend: m.backend, input: Array.from(crop.input), box: crop.box, shape: act.shape, data: Array.from(act.data) };
    }, readFileSync(ASTRONAUT).toString('base64'));
    expect(got.backend).toBe('webgpu');
    expect(got.box).toEqual({ x: box.x, y: box.y, width: box.width, height: box.height });
    expect(new Float32Array(got.input)).toEqual(input);
    expect(got.shape).toEqual([...model.shapes[1]]);
    expectClose(got.data, want, GPU_TOLERANCE, 'conv2d layer 0, page WebGPU vs Node CPU');
    await page.close();
  });
});
