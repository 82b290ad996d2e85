import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FerError } from '../backend/errors.ts';
import { DEFAULT_CASCADE } from '../detect/cascade-file.ts';
import { defineCommand, parseFlags } from './flags.ts';
import { webSite, type SiteOptions, type WebFile } from './web-files.ts';

export const SERVE = defineCommand({
  usage: 'fer serve [options]',
  about: `Serves the browser demo (photo or webcam, a box and seven probabilities per face) at / and the
kernel explorer (a layer's filters, feature maps, WGSL source and timing) at /explorer.html,
on 127.0.0.1 only. The page runs the model itself: on WebGPU when the browser has it, else on
its CPU path (add ?backend=cpu or ?backend=webgpu to the URL to choose).`,
  flags: {
    port: { kind: 'int', min: 0, max: 65535, default: 0, help: 'port (0: any free port; the URL is printed)' },
    model: { kind: 'path', arg: 'FILE|RUN', help: 'model file or run folder (default: the shipped models/fer.safetensors)' },
    cascade: { kind: 'path', help: `face cascade XML (default ${DEFAULT_CASCADE})` },
    backend: { kind: 'text', arg: '…', help: 'ignored: the browser decides (see above)' },
  },
});

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: import('node:http').ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Starts the demo server. Requests are looked up in the site's fixed table by exact path, so
 * `..`, encoded or not, reaches nothing outside it.
 */
export async function startServer(opts: SiteOptions & { port?: number } = {}): Promise<RunningServer> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FerError(`serve: --port must be an integer in [0, 65535], got ${opts.port}`);
  const site = await webSite(opts);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    const path = (req.url ?? '/').split(/[?#]/)[0];
    const entry: WebFile | undefined = site.get(path === '/' ? '/index.html' : path);
    if (!entry) return send(res, 404, `not found: ${path}\n`);
    res.setHeader('content-type', entry.type);
    res.setHeader('cache-control', 'no-store');
    // Cross-origin isolation: the page gets SharedArrayBuffer, so the WebAssembly kernels use a
    // shared memory (threads need one); every file is served from here, so nothing breaks.
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    if ('text' in entry) {
      const body = Buffer.from(entry.text, 'utf8');
      res.setHeader('content-length', body.length);
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (req.method === 'HEAD') return void res.end();
    // Read on every request: a model retrained while the server runs is served as it is now.
    createReadStream(entry.file)
      .on('error', (e) => {
        if (!res.headersSent) send(res, 500, `cannot read ${entry.file}: ${e.message}\n`);
        else res.destroy(e);
      })
      .pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'EADDRINUSE' ? new FerError(`serve: port ${port} is in use; pick another with --port N (0: any free port)`) : e),
    );
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/**
 * Under npx (npm sets npm_command), `npx fer serve` is npm's child: killing npm by its pid
 * (SIGKILL included, which npm cannot forward) would leave this server running, re-parented.
 * Watch for that and stop with it.
 */
export function watchParent(stop: () => void, env: NodeJS.ProcessEnv = process.env, everyMs = 500): void {
  if (!env.npm_command) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop();
    }
  }, everyMs);
  timer.unref();
}

export async function serveCommand(argv: string[]): Promise<void> {
  const args = parseFlags(SERVE, argv);
  if (!args) return;
  const v = args.values;
  if (v.backend !== undefined) console.error('serve: --backend is ignored: the browser runs the model (add ?backend=cpu or ?backend=webgpu to the URL)');
  const server = await startServer({ port: v.port, model: v.model, cascade: v.cascade });
  console.log(`fer demo:     ${server.url}`);
  console.log(`explorer:     ${server.url}explorer.html`);
  console.error('(Ctrl-C stops the server)');
  await new Promise<void>((done) => {
    const stop = () => void server.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    watchParent(stop);
  });
}
