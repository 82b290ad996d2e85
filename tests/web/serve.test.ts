// `fer serve` and `fer build-web`: what the server answers (types, 404, no way out of its file
// table), their one-line errors, the real CLI printing its URL, and a build-web folder that a
// plain static server hosts and whose fer.js a page imports without a bundler.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../src/cli/build-web.ts';
import { startServer, type RunningServer } from '../../src/cli/serve.ts';
import { CONTENT_TYPES } from '../../src/cli/web-files.ts';
import { exposeFer, hasCascade, hasChromium, launch, openPage, ROOT, testModelPath, type FerModule } from './browser.ts';

declare const fer: FerModule;

/** A GET (or other method) with the path sent exactly as written: fetch() would normalise `..`. */
function raw(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

const SHADERS = readdirSync(join(ROOT, 'shaders')).filter((f) => f.endsWith('.wgsl'));

describe.skipIf(!hasCascade)('fer serve', () => {
  let server: RunningServer;
  let modelPath: string;

  beforeAll(async () => {
    modelPath = await testModelPath();
    server = await startServer({ model: modelPath });
  });
  afterAll(() => server?.close());

  it('listens on 127.0.0.1 on a free port and serves every page with its content type', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
    const want: [string, string][] = [
      ['/', CONTENT_TYPES['.html']],
      ['/index.html', CONTENT_TYPES['.html']],
      ['/explorer.html', CONTENT_TYPES['.html']],
      ['/style.css', CONTENT_TYPES['.css']],
      ['/fer.js', CONTENT_TYPES['.js']],
      ['/demo.js', CONTENT_TYPES['.js']],
      ['/explorer.js', CONTENT_TYPES['.js']],
      ['/webcam-worker.js', CONTENT_TYPES['.js']],
      ['/cascade.xml', CONTENT_TYPES['.xml']],
      ['/model.safetensors', 'application/octet-stream'],
      ...SHADERS.map((f): [string, string] => [`/shaders/${f}`, CONTENT_TYPES['.wgsl']]),
    ];
    for (const [path, type] of want) {
      const res = await fetch(`${server.url.slice(0, -1)}${path}?v=1`);
      expect(`${path} ${res.status} ${res.headers.get('content-type')}`).toBe(`${path} 200 ${type}`);
      await res.arrayBuffer();
    }
    const served = Buffer.from(await (await fetch(`${server.url}model.safetensors`)).arrayBuffer());
    expect(served.equals(readFileSync(modelPath)), 'the served model is the file').toBe(true);
    expect(await (await fetch(`${server.url}shaders/relu.wgsl`)).text()).toBe(readFileSync(join(ROOT, 'shaders/relu.wgsl'), 'utf8'));
  });

  it('answers 404 for anything else, including every way of climbing out', async () => {
    for (const path of [
      '/nope.html',
      '/../package.json',
      '/shaders/../package.json',
      '/%2e%2e/package.json',
      '/shaders/%2e%2e%2fpackage.json',
      '/shaders/..%2f..%2fpackage.json',
      '//etc/passwd',
      '/shaders/',
      '/shaders',
      '/src/web/index.ts',
      '/shaders/relu.wgsl/',
    ]) {
      const res = await raw(server.port, path);
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
      expect(res.body).not.toContain('"name": "fer-webgpu"');
    }
    expect((await raw(server.port, '/', 'POST')).status).toBe(405);
    const head = await raw(server.port, '/fer.js', 'HEAD');
    expect([head.status, head.type, head.body]).toEqual([200, CONTENT_TYPES['.js'], '']);
  });

  it('fer.js is one ES module with no Node code: webgpu and node: builtins only behind dynamic imports', async () => {
    const js = await (await fetch(`${server.url}fer.js`)).text();
    expect(js).toMatch(/^export \{/m);
    expect(js).not.toMatch(/^import .* from /m);
    expect(js).not.toMatch(/["'](pngjs|jpeg-js)["']|\bBuffer\.from\(/);
    // WGSL ships as text, header comments included.
    expect(js).toContain(readFileSync(join(ROOT, 'shaders/relu.wgsl'), 'utf8').split('\n')[0]);
    // The page scripts share fer.js instead of carrying the engine again.
    for (const page of ['demo.js', 'explorer.js', 'webcam-worker.js']) {
      const text = await (await fetch(`${server.url}${page}`)).text();
      expect(text).toMatch(/from "\.\/fer\.js"/);
      expect(text.length).toBeLessThan(js.length / 4);
    }
  });

  it('one-line errors: missing cascade, missing model, bad port, port in use', async () => {
    await expect(startServer({ model: modelPath, cascade: '/nonexistent/cascade.xml' })).rejects.toThrow(
      /^face cascade \/nonexistent\/cascade\.xml not found: install Debian's opencv-data package \(apt-get install opencv-data\) or pass --cascade PATH$/,
    );
    await expect(startServer({ model: '/nonexistent/model.safetensors' })).rejects.toThrow(/^model not found: \/nonexistent\/model\.safetensors$/);
    await expect(startServer({ model: modelPath, port: 70000 })).rejects.toThrow(/^serve: --port must be an integer in \[0, 65535\], got 70000$/);
    await expect(startServer({ model: modelPath, port: server.port })).rejects.toThrow(new RegExp(`^serve: port ${server.port} is in use; pick another`));
  });
});

describe.skipIf(!hasCascade)('the CLI', () => {
  const fer = (args: string[]) => promisify(execFile)(process.execPath, ['src/cli/fer.mjs', ...args], { cwd: ROOT });

  it('fer serve prints its URL and serves the demo there', async () => {
    const model = await testModelPath();
    const child = spawn(process.execPath, ['src/cli/fer.mjs', 'serve', '--model', model, '--backend', 'cpu'], { cwd: ROOT });
    try {
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
          const m = /fer demo: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) ok(m[1]);
        });
        child.on('exit', (code) => fail(new Error(`fer serve exited with ${code}: ${err}`)));
      });
      const page = await (await fetch(url)).text();
      expect(page).toContain('<script type="module" src="demo.js"></script>');
      expect(err).toContain('--backend is ignored');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('one-line errors for bad arguments', async () => {
    const fails = async (args: string[]) => {
      const e = (await fer(args).then(() => null, (x: { stderr: string; code: number }) => x))!;
      expect(e, `fer ${args.join(' ')} should fail`).not.toBeNull();
      expect(e.code).toBe(1);
      return e.stderr.trim();
    };
    expect(await fails(['build-web'])).toBe('fer: build-web needs --out DIR (fer build-web --help)');
    expect(await fails(['serve', '--port', 'abc'])).toBe('fer: --port must be an integer in [0, 65535], got "abc"');
    expect(await fails(['serve', '--port', '-1'])).toBe('fer: --port must be an integer in [0, 65535], got "-1"');
    expect(await fails(['serve', 'extra'])).toBe('fer: serve takes no positional arguments, got "extra" (fer serve --help)');
    expect(await fails(['serve', '--model', '/nonexistent.safetensors'])).toBe('fer: model not found: /nonexistent.safetensors');
  });
});

describe.skipIf(!hasCascade)('fer build-web', () => {
  let out: string;
  let files: string[];
  let statics: Server;
  let base: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'fer-build-web-'));
    files = await buildWeb(out, { model: await testModelPath() });
    // Any static server will do: this one maps paths to files and knows nothing of fer.
    statics = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
      const rel = path === '/' ? 'index.html' : path.slice(1);
      if (!files.includes(rel)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(rel)] ?? 'application/octet-stream' });
      res.end(readFileSync(join(out, rel)));
    });
    await new Promise<void>((ok) => statics.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(statics.address() as { port: number }).port}/`;
  });
  afterAll(() => statics?.close());

  it('writes the pages, the bundle, the model, the cascade and the shaders', () => {
    for (const f of ['fer.js', 'demo.js', 'explorer.js', 'webcam-worker.js', 'index.html', 'explorer.html', 'style.css', 'model.safetensors', 'cascade.xml']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('shaders/')).sort()).toEqual(SHADERS.map((f) => `shaders/${f}`).sort());
    expect(readdirSync(out).sort()).toEqual([...new Set(files.map((f) => f.split('/')[0]))].sort());
  });

  it.skipIf(!hasChromium)('a page on a plain static server (not cross-origin isolated) imports fer.js without a bundler and classifies on WebAssembly with an unshared memory', async () => {
    const browser = await launch();
    try {
      const { page, errors } = await openPage(browser, { webgpu: false });
      await page.goto(`${base}index.html`);
      await page.waitForFunction(() => document.getElementById('backend')!.dataset.backend !== 'loading');
      expect(await page.getAttribute('#backend', 'data-backend')).toBe('wasm');
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      expect(await page.textContent('#backend')).toContain('1 thread (no SharedArrayBuffer: the page is not cross-origin isolated)');
      await exposeFer(page, './fer.js');
      const got = await page.evaluate(async () => {
        const model = await fer.loadModel('model.safetensors');
        const face = new ImageData(48, 48);
        for (let i = 0; i < face.data.length; i++) face.data[i] = i % 4 === 3 ? 255 : (i * 37) % 256;
        const { faces } = await model.predict(face, { detect: false });
        return { backend: model.backend, classes: model.classes, p: faces[0].probabilities };
      });
      expect(got.backend).toBe('wasm');
      expect(got.classes).toHaveLength(7);
      expect(got.p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
