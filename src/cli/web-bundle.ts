import { build, type BuildOptions, type Plugin } from 'esbuild';
import { builtinModules } from 'node:module';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerError } from '../backend/errors.ts';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const ENGINE = fileURLToPath(new URL('../engine.ts', import.meta.url));

const BASE: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  // WGSL ships as text; the kernels' teaching comments stay readable (no \u escapes).
  loader: { '.wgsl': 'text', '.wat': 'text' },
  charset: 'utf8',
  // Reached only under `process.versions.node` (Dawn and the SwiftShader probe in adapter.ts,
  // worker threads in gemm-threads.ts): never loaded by a browser.
  // Bare built-ins too: wabt's Emscripten loader require()s 'fs' and 'path' in its Node branch.
  // wabt: the kernels come prebuilt (FER_WASM_BINARIES below), so its import is never reached.
  external: ['webgpu', 'wabt', 'node:*', ...builtinModules],
  logLevel: 'silent',
};

/**
 * The page scripts (demo, explorer, webcam worker) use the engine only through the public
 * module, as any page would: their `import … from './index.ts'` becomes `import … from
 * './fer.js'`, `src/engine.ts` becomes './engine.js', and anything else from the engine is
 * refused, so they never carry a second copy.
 */
const pagesUseFerJs: Plugin = {
  name: 'pages-use-fer-js',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = resolve(args.resolveDir, args.path);
      if (target === resolve(WEB, 'index.ts')) return { path: './fer.js', external: true };
      if (target === ENGINE) return { path: './engine.js', external: true };
      if (dirname(target) !== resolve(WEB)) {
        return { errors: [{ text: `${relative(WEB, args.importer)} imports ${args.path}: page scripts may import only ./index.ts and other files in src/web` }] };
      }
      return undefined;
    });
  },
};

/**
 * The WebAssembly kernels, assembled here (shared and unshared memory) and carried in the
 * bundles as base64, so a page loads neither wabt (690 kB) nor any file of its own for them.
 */
async function wasmBinaries(): Promise<string> {
  const { assembleKernels } = await import('../backend/wasm/module.ts');
  const b64 = (set: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(set).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return JSON.stringify({ shared: b64(await assembleKernels(true)), unshared: b64(await assembleKernels(false)) });
}

/** The browser files: `fer.js` (the library: engine, WGSL, detector), `engine.js` (fer-webgpu/engine), and the page scripts. */
export async function bundleWeb(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const COMMON: BuildOptions = { ...BASE, define: { FER_WASM_BINARIES: await wasmBinaries() } };
  try {
    const lib = await build({ ...COMMON, entryPoints: [resolve(WEB, 'index.ts')], outfile: 'fer.js' });
    out.set('fer.js', lib.outputFiles![0].text);
    // The engine for pages that build and train their own networks (the Train tab among them).
    const engine = await build({ ...COMMON, entryPoints: [ENGINE], outfile: 'engine.js' });
    out.set('engine.js', engine.outputFiles![0].text);
    const pages = await build({
      ...COMMON,
      entryPoints: ['demo.ts', 'explorer.ts', 'webcam-worker.ts', 'train-page.ts', 'train-worker.ts'].map((f) => resolve(WEB, f)),
      outdir: 'pages',
      plugins: [pagesUseFerJs],
    });
    for (const f of pages.outputFiles!) out.set(basename(f.path), f.text);
  } catch (e) {
    const errors = (e as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
    if (!errors) throw e;
    const first = errors[0];
    throw new FerError(`bundling the web files failed: ${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}`);
  }
  return out;
}
