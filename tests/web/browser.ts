// What the browser tests share: Debian's chromium driven by playwright-core, the model they
// serve, the photo they use, and where screenshots go.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Random } from '../../src/backend/random.ts';
import { DEFAULT_CASCADE } from '../../src/detect/cascade-file.ts';
import { modelToBytes } from '../../src/nn/model-file.ts';
import { createModel } from '../../src/nn/models.ts';
import { requirement } from '../support/requires.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ARTIFACTS = join(ROOT, 'tests/.artifacts');
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = requirement(CHROMIUM, existsSync(CHROMIUM), 'apt-get install chromium');
export const hasCascade = requirement(`the face cascade ${DEFAULT_CASCADE}`, existsSync(DEFAULT_CASCADE), 'apt-get install opencv-data');

const PHOTOS = resolve(ROOT, process.env.FER_PHOTOS_DIR ?? '../shared/photos');
export const ASTRONAUT = join(PHOTOS, 'astronaut.png');
export const hasAstronaut = requirement(ASTRONAUT, existsSync(ASTRONAUT), 'set FER_PHOTOS_DIR');

/**
 * Headless chromium flags. `--enable-unsafe-webgpu` is all WebGPU needs here: Chromium then
 * falls back to its bundled SwiftShader Vulkan (adapter "google swiftshader") with no GPU.
 * WebGPU also needs a secure context, which http://127.0.0.1 is. The rest keep the browser off
 * the network.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A page that fails its test on any uncaught error, and that can be made to lack WebGPU. */
export async function openPage(browser: Browser, opts: { webgpu: boolean }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // As in a browser without WebGPU: navigator.gpu is simply not there.
  if (!opts.webgpu) await page.addInitScript(() => void delete (Object.getPrototypeOf(navigator) as { gpu?: unknown }).gpu);
  return { page, errors };
}

/**
 * The model the pages serve: the shipped one when it exists, else the `small` network with
 * seed 7 and no training (its probabilities differ from class to class, which is all a
 * comparison needs).
 */
export async function testModelPath(): Promise<string> {
  const shipped = join(ROOT, 'models/fer.safetensors');
  if (existsSync(shipped)) return shipped;
  const dir = mkdtempSync(join(tmpdir(), 'fer-web-'));
  const path = join(dir, 'small-seed7.safetensors');
  writeFileSync(path, await modelToBytes(createModel('small').build(new Random(7), 'cpu')));
  return path;
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export type FerModule = typeof import('../../src/web/index.ts');

/**
 * Puts the page's fer.js on `window.fer` for page.evaluate. (An `import()` written inside an
 * evaluated function would be rewritten by vitest's module transform before it reaches the page.)
 */
export async function exposeFer(page: Page, url = '/fer.js'): Promise<void> {
  await page.addScriptTag({ type: 'module', content: `import * as fer from ${JSON.stringify(url)}; window.fer = fer;` });
  await page.waitForFunction(() => 'fer' in window);
}
