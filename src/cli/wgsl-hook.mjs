// Node module hook: `import src from '.../x.wgsl'` (or a WebAssembly text file, `.wat`) yields the file's text, as esbuild's
// `--loader:.wgsl=text` does for the browser bundle and the plugin in tests/vitest.config.ts does for tests.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (url.endsWith('.wgsl') || url.endsWith('.wat')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
