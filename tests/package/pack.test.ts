// The package as a user gets it: `npm pack` (which builds dist/ in prepack), the tarball
// unpacked into an empty project's node_modules as npm installs it, both entry points
// imported in Node by the docs' example, the declarations type-checked by a consumer, and a
// page bundled with esbuild from `fer-webgpu/engine` training in Chromium on WebGPU and on the
// CPU path. The docs' no-bundler page runs on `fer build-web`'s output.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../src/cli/build-web.ts';
import { artifact, hasCascade, hasChromium, launch, openPage, ROOT, testModelPath } from '../web/browser.ts';

const run = promisify(execFile);
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.safetensors': 'application/octet-stream', '.xml': 'application/xml' };

/** A static file server on 127.0.0.1 for one folder (WebGPU needs a secure context; localhost is one). */
async function serveFolder(dir: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (path.includes('..')) return void res.writeHead(400).end();
    if (path === '/') path = '/index.html';
    try {
      const body = readFileSync(join(dir, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

interface Trained {
  backend: string;
  firstLoss: number;
  lastLoss: number;
  accuracy?: number;
  emotion?: string;
}

describe('npm pack → install → import', () => {
  let work: string;
  let app: string;
  let files: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'fer-pack-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 1 << 26 });
    // prepack's build prints before npm's JSON report.
    const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n')))[0] as { filename: string; files: { path: string }[] };
    files = report.files.map((f) => f.path);
    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    // `npm install <tarball>` would ask the registry for the dependencies' metadata (npm ci
    // caches only their tarballs), so the install is done by hand and offline: the tarball
    // unpacked where npm puts it, each dependency it declares linked from this checkout.
    const pkg = join(app, 'node_modules/fer-webgpu');
    mkdirSync(pkg, { recursive: true });
    await run('tar', ['xzf', join(work, report.filename), '-C', pkg, '--strip-components=1']);
    const deps = Object.keys(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).dependencies ?? {});
    for (const d of deps) {
      mkdirSync(dirname(join(app, 'node_modules', d)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', d), join(app, 'node_modules', d), 'dir');
    }
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds the built entry points, declarations, sources for the CLI and the model; no tests, bench or CI', () => {
    for (const f of ['dist/node/index.js', 'dist/node/engine.js', 'dist/browser/index.js', 'dist/browser/engine.js', 'dist/types/engine.d.ts', 'dist/types/node.d.ts', 'dist/types/index.d.ts', 'src/cli/fer.mjs', 'models/fer.safetensors', 'package.json']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^(tests|bench|\.ci|wasm\/.*\.test)\//.test(f) || f.includes('.test.'))).toEqual([]);
  });

  it('Node: the docs example imports both entry points, trains a two-layer network, and classifies a face with the shipped model', async () => {
    cpSync(join(ROOT, 'docs/examples/node-train.mjs'), join(app, 'node-train.mjs'));
    const { stdout } = await run(process.execPath, ['node-train.mjs', 'cpu'], { cwd: app });
    const got = JSON.parse(stdout) as Trained;
    expect(got.backend).toBe('cpu');
    expect(got.lastLoss).toBeLessThan(got.firstLoss / 3);
    expect(got.accuracy).toBeGreaterThan(0.9);
    expect(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']).toContain(got.emotion);
  });

  it('the declarations type-check a consumer under Node16 resolution, and reject a wrong call', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const consumer = `import { Sequential, Dense, Random, adam, fit, type Tensor } from 'fer-webgpu/engine';
import { loadModel, type FerModel } from 'fer-webgpu';
const m = new Sequential('m', [new Dense({ units: 2 })], [3], ['a', 'b']).build(new Random(1), 'cpu');
const steps: Promise<{ loss: number }[]> = fit(m, adam({ lr: 0.1 }), { x: new Float32Array(6), y: [0, 1], count: 2 });
const model: Promise<FerModel> = loadModel('model.safetensors', { cascade: null });
export const t: Tensor | null = null;
export { steps, model };
`;
    writeFileSync(join(app, 'consumer.ts'), consumer);
    const opts = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', '--skipLibCheck'];
    // (skipLibCheck: TypeScript 7's lib.dom declares WebGPU too and clashes with @webgpu/types, as in any project using both.)
    // A TypeScript user of Node has @types/node; the scratch project borrows this checkout's.
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'), 'dir');
    const typeRoots: string[] = [];
    await run(process.execPath, [tsc, ...opts, ...typeRoots, 'consumer.ts'], { cwd: app });
    writeFileSync(join(app, 'wrong.ts'), `import { Dense } from 'fer-webgpu/engine';\nnew Dense({ units: 'two' });\n`);
    const wrong = await run(process.execPath, [tsc, ...opts, ...typeRoots, 'wrong.ts'], { cwd: app }).then(() => null, (e: { stdout: string }) => e.stdout);
    expect(wrong).toMatch(/wrong\.ts\(2,\d+\): error TS2322/);
  });

  describe.skipIf(!hasChromium)('in Chromium', () => {
    let browser: Browser;
    let page: { url: string; server: Server };

    beforeAll(async () => {
      const dir = join(work, 'bundled');
      mkdirSync(dir);
      cpSync(join(ROOT, 'docs/examples/bundled-page'), join(app, 'page'), { recursive: true });
      // The user's bundler resolves `fer-webgpu/engine` through the package's "browser"/default export.
      const esbuild = join(app, 'node_modules/esbuild/bin/esbuild');
      await run(esbuild, ['page/main.js', '--bundle', '--format=esm', '--platform=browser', `--outfile=${join(dir, 'main.bundle.js')}`], { cwd: app });
      cpSync(join(app, 'page/index.html'), join(dir, 'index.html'));
      [browser, page] = await Promise.all([launch(), serveFolder(dir)]);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      page?.server.close();
    });

    for (const backend of ['webgpu', 'cpu'] as const) {
      it(`the bundled page trains the two-layer network on ${backend}`, async () => {
        const { page: p, errors } = await openPage(browser, { webgpu: backend === 'webgpu' });
        await p.goto(`${page.url}?backend=${backend}`);
        await p.waitForSelector('#out[data-result], #out[data-error]', { timeout: 120_000 });
        expect(await p.getAttribute('#out', 'data-error')).toBeNull();
        const got = JSON.parse((await p.getAttribute('#out', 'data-result'))!) as Trained;
        expect(got.backend).toBe(backend);
        expect(got.lastLoss).toBeLessThan(got.firstLoss / 2);
        expect(got.accuracy).toBeGreaterThan(0.85);
        await p.screenshot({ path: artifact(`package-bundled-${backend}.png`) });
        expect(errors).toEqual([]);
        await p.close();
      });
    }

    it.skipIf(!hasCascade)('the no-bundler docs page runs on fer build-web output (engine.js and fer.js)', async () => {
      const site = join(work, 'site');
      await buildWeb(site, { model: await testModelPath() });
      expect(readdirSync(site)).toEqual(expect.arrayContaining(['engine.js', 'fer.js', 'model.safetensors']));
      cpSync(join(ROOT, 'docs/examples/no-bundler.html'), join(site, 'no-bundler.html'));
      const served = await serveFolder(site);
      try {
        const { page: p, errors } = await openPage(browser, { webgpu: false });
        await p.goto(`${served.url}no-bundler.html`);
        await p.waitForSelector('#out[data-result]', { timeout: 120_000 });
        const got = JSON.parse((await p.getAttribute('#out', 'data-result'))!) as Trained;
        // No WebGPU and a plain static server (not cross-origin isolated): the WebAssembly
        // kernels on an unshared memory, carried prebuilt in engine.js.
        expect(got.backend).toBe('wasm');
        expect(got.lastLoss).toBeLessThan(got.firstLoss);
        expect(['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']).toContain(got.emotion);
        expect(errors).toEqual([]);
        await p.close();
      } finally {
        served.server.close();
      }
    });
  });
});
