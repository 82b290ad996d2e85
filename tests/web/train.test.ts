// The Train tab in Chromium: on drawn faces the tiny network goes from nothing to well above
// chance (1/7) in a bounded number of steps on the CPU path, pause holds it still, the saved
// model file scores with `fer eval` exactly what the page showed on the same validation faces;
// on WebGPU a short run trains and draws its filters.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { syntheticFaces } from '../../src/data/synthetic.ts';
import { artifact, hasCascade, hasChromium, launch, openPage, ROOT } from './browser.ts';

const FACES = 700;
const STEPS = 60;
const EVAL_EVERY = 20;

async function startTraining(page: Page, url: string, steps: number): Promise<void> {
  await page.goto(url);
  await page.fill('#count', String(FACES));
  await page.fill('#steps', String(steps));
  await page.fill('#eval-every', String(EVAL_EVERY));
  await page.click('#start');
}

describe.skipIf(!hasChromium || !hasCascade)('Train tab', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({}), launch()]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('CPU path: drawn faces, accuracy well above chance, pause/resume, and fer eval agrees with the page', async () => {
    const { page, errors } = await openPage(browser, { webgpu: false });
    await startTraining(page, `${server.url}train.html?backend=cpu`, STEPS);
    // Waits are bounded only to end a hung page: 19 s in all on a quiet machine, and well over
    // 120 s for the first ten steps beside other heavy jobs, so the bounds are wide.
    // "At least ten", not "exactly ten": the attribute moves on every step, and a poll that lands
    // between two steps never sees a given value (step 10 was passed over in a CI run).
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#step')?.dataset.step ?? 0) >= 10 || document.querySelector('#status[data-kind="error"]') !== null, undefined, { timeout: 600_000 });
    expect(await page.getAttribute('#status', 'data-kind')).not.toBe('error');
    expect(await page.textContent('#backend')).toBe('CPU — the cpu backend was asked for');
    // Pause: the step counter holds still until resumed.
    await page.click('#pause');
    await page.waitForSelector('#status[data-paused]', { timeout: 300_000 });
    const held = await page.getAttribute('#step', 'data-step');
    await page.waitForTimeout(1500);
    expect(await page.getAttribute('#step', 'data-step')).toBe(held);
    await page.screenshot({ path: artifact('train-cpu-mid.png') });
    await page.click('#pause');
    await page.waitForSelector('#status[data-done]', { timeout: 900_000 });
    const accuracy = Number(await page.getAttribute('#val-acc', 'data-accuracy'));
    const correct = Number(await page.getAttribute('#val-acc', 'data-correct'));
    console.log(`[train] the Train tab reached ${(100 * accuracy).toFixed(1)}% validation accuracy on drawn faces after ${STEPS} steps`);
    expect(await page.getAttribute('#val-acc', 'data-step')).toBe(String(STEPS));
    expect(accuracy).toBeGreaterThan(0.4); // chance is 1/7
    expect(Number(await page.getAttribute('#filters', 'data-updates'))).toBeGreaterThan(2);
    expect(await page.locator('#layer-times tbody tr').count()).toBe(10);
    await page.screenshot({ path: artifact('train-cpu-done.png') });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const dir = mkdtempSync(join(tmpdir(), 'fer-train-tab-'));
    const model = join(dir, 'tiny-trained.safetensors');
    await download.saveAs(model);
    // The page's validation faces, as a FER2013 CSV (PublicTest rows) for fer eval.
    const val = syntheticFaces({ count: Math.max(70, Math.round(FACES / 5)), seed: 1 + 1_000_003 });
    const rows = Array.from({ length: val.count }, (_, i) => `${val.labels[i]},${val.images.subarray(i * 2304, (i + 1) * 2304).join(' ')},PublicTest`);
    writeFileSync(join(dir, 'val.csv'), `emotion,pixels,Usage\n${rows.join('\n')}\n`);
    const { stdout } = await promisify(execFile)(process.execPath, ['src/cli/fer.mjs', 'eval', '--backend', 'cpu', '--json', '--model', model, '--data', join(dir, 'val.csv')], { cwd: ROOT });
    const evaluated = JSON.parse(stdout) as { accuracy: number; count: number };
    expect(evaluated.count).toBe(val.count);
    expect(Math.round(evaluated.accuracy * val.count)).toBe(correct);
    expect(errors).toEqual([]);
    await page.close();
  }, 1_800_000);

  it("WebAssembly: the page's worker trains on SIMD kernels with worker threads of its own", async () => {
    const { page, errors } = await openPage(browser, { webgpu: false });
    await startTraining(page, `${server.url}train.html?backend=wasm`, STEPS);
    await page.waitForSelector('#status[data-done], #status[data-kind="error"]', { timeout: 900_000 });
    expect(await page.getAttribute('#status', 'data-kind')).not.toBe('error');
    // The page is cross-origin isolated (fer serve's COOP/COEP) and training runs in a worker,
    // which may block in Atomics.wait: so it gets the cores (at most 8) as threads.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Math.max(1, Math.min(cores, 8));
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('wasm');
    expect(await page.textContent('#backend')).toBe(`WebAssembly — WebAssembly SIMD, ${threads} thread${threads === 1 ? "" : "s"}`);
    const accuracy = Number(await page.getAttribute('#val-acc', 'data-accuracy'));
    console.log(`[train] the Train tab on WebAssembly (${threads} threads) reached ${(100 * accuracy).toFixed(1)}% after ${STEPS} steps`);
    expect(accuracy).toBeGreaterThan(0.4); // chance is 1/7
    expect(errors).toEqual([]);
    await page.close();
  }, 1_800_000);

  it('WebGPU: a short run trains on the adapter and draws the filters', async () => {
    const { page, errors } = await openPage(browser, { webgpu: true });
    await startTraining(page, `${server.url}train.html?backend=webgpu`, 25);
    await page.waitForSelector('#status[data-done], #status[data-kind="error"]', { timeout: 900_000 });
    expect(await page.getAttribute('#status', 'data-kind')).not.toBe('error');
    expect(await page.getAttribute('#backend', 'data-backend')).toBe('webgpu');
    expect(Number(await page.getAttribute('#filters', 'data-updates'))).toBeGreaterThan(1);
    await page.screenshot({ path: artifact('train-webgpu-done.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 1_800_000);
});
