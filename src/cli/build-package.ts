// Builds what `npm pack` ships (run by the `prepack` script): dist/browser and dist/node hold
// the `fer-webgpu` and `fer-webgpu/engine` entry points as ES modules, with the WGSL inside as
// text and the code both share in one chunk (a model from one entry and tensors from the
// other live in one engine); dist/types holds the declarations tsc generates from the sources.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');

const COMMON: BuildOptions = {
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  // Kernel sources travel inside the modules: nothing is fetched at run time.
  loader: { '.wgsl': 'text', '.wat': 'text' },
  charset: 'utf8',
  chunkNames: 'shared-[hash]',
  logLevel: 'warning',
};

/**
 * In the browser build, Node's built-in modules (`node:fs`, or a dependency's bare `fs`) are
 * reached only behind checks for Node (Dawn's SwiftShader probe, Emscripten's environment
 * test). They become a module that throws if ever loaded, so a user's bundler never has to
 * resolve a Node built-in.
 */
const BUILTIN = new RegExp(`^(node:.*|${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
const noNodeBuiltins: Plugin = {
  name: 'no-node-builtins',
  setup(b) {
    b.onResolve({ filter: BUILTIN }, (a) => ({ path: a.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`${a.path} is not available in the browser build of fer-webgpu`)});`,
      loader: 'js',
    }));
  },
};

/**
 * The browser build carries the kernels prebuilt (FER_WASM_BINARIES), so its import of the
 * assembler is never reached: it becomes a module that says so, and a user's bundler never
 * meets wabt (whose Node branch needs `fs`).
 */
const noWabt: Plugin = {
  name: 'no-wabt',
  setup(b) {
    b.onResolve({ filter: /^wabt$/ }, (a) => ({ path: a.path, namespace: 'no-wabt' }));
    b.onLoad({ filter: /.*/, namespace: 'no-wabt' }, () => ({
      contents: `export default () => { throw new Error('the browser build of fer-webgpu carries its WebAssembly kernels prebuilt; wabt is not in it'); };`,
      loader: 'js',
    }));
  },
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

// The WebAssembly kernels, assembled now and carried as base64 by the browser build (Node
// assembles them from the .wat text with wabt at load time).
const { assembleKernels } = await import('../backend/wasm/module.ts');
const b64 = (set: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(set).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
const FER_WASM_BINARIES = JSON.stringify({ shared: b64(await assembleKernels(true)), unshared: b64(await assembleKernels(false)) });

rmSync(DIST, { recursive: true, force: true });
await build({
  ...COMMON,
  platform: 'browser',
  define: { FER_WASM_BINARIES },
  entryPoints: { index: join(ROOT, 'src/index.ts'), engine: join(ROOT, 'src/engine.ts') },
  outdir: join(DIST, 'browser'),
  // Dawn, for Node only, is imported through a variable and never bundled.
  external: ['webgpu'],
  plugins: [noNodeBuiltins, noWabt],
});
await build({
  ...COMMON,
  platform: 'node',
  entryPoints: { index: join(ROOT, 'src/node.ts'), engine: join(ROOT, 'src/engine.ts') },
  outdir: join(DIST, 'node'),
  // The package's dependencies (pngjs, jpeg-js, webgpu) are installed beside it.
  packages: 'external',
});

execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.package.json')], { stdio: 'inherit' });
// The sources import './x.ts'; a declaration must name './x.js' to resolve for every user.
for (const f of filesUnder(join(DIST, 'types'))) {
  let text = readFileSync(f, 'utf8').replace(/((?:from |import\(|import )['"]\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1.js$2');
  // GPUDevice and friends in the signatures come from @webgpu/types, a dependency.
  if (/\/(engine|index|node)\.d\.ts$/.test(f)) text = `/// <reference types="@webgpu/types" />\n${text}`;
  writeFileSync(f, text);
}
console.log(`built ${filesUnder(DIST).length} files in dist/`);
