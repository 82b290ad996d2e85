import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering of src/, lowest first (README, "How the code is laid out"). A file may import
// from its own folder or from a lower rank, never upward and never sideways: a new upward
// import fails here with the file and the import named.
const RANK: Record<string, number> = {
  shaders: 0, // WGSL text (outside src/)
  wasm: 0, // WebAssembly text kernels (outside src/)
  backend: 1,
  ops: 2,
  image: 2,
  data: 3,
  nn: 4, // imports data for the class list only
  train: 5,
  detect: 5,
  baseline: 5,
  'engine.ts': 6, // the engine package entry: re-exports the layers below
  cli: 7,
  web: 7,
  'index.ts': 8, // package entries over web/
  'node.ts': 8,
  'wgsl.d.ts': 0,
};

const ROOT = resolve(new URL('../', import.meta.url).pathname);
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|mjs)$/.test(f) ? [p] : [];
  });
}

/** The layer of a path: its folder under src/, the file itself at src/'s top, or the top folder outside src/. */
function layer(path: string): string {
  const inSrc = relative(SRC, path);
  if (!inSrc.startsWith('..')) return inSrc.split('/')[0];
  return relative(ROOT, path).split('/')[0];
}

/** The imports of each (path, text) that go up or sideways. */
function violations(sources: { path: string; text: string }[]): string[] {
  const bad: string[] = [];
  for (const { path, text } of sources) {
    const from = layer(path);
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const to = layer(resolve(dirname(path), m[1]));
      if (to === from) continue;
      if (RANK[to] === undefined || RANK[to] >= RANK[from]) bad.push(`${relative(ROOT, path)} (${from}) imports ${m[1]} (${to})`);
    }
  }
  return bad;
}

describe('layering: imports point down', () => {
  const all = files(SRC);

  it('every file of src/ is in a ranked layer', () => {
    for (const f of all) expect(RANK[layer(f)], `${relative(ROOT, f)}: layer ${layer(f)} has no rank`).toBeDefined();
  });

  it('no import goes up or sideways', () => {
    expect(violations(all.map((path) => ({ path, text: readFileSync(path, 'utf8') })))).toEqual([]);
  });

  it('an upward, a sideways and a dynamic import are caught; a downward one is not', () => {
    const at = (p: string, text: string) => ({ path: join(SRC, p), text });
    expect(violations([at('ops/x.ts', "import { Conv2D } from '../nn/conv2d.ts';")])).toHaveLength(1);
    expect(violations([at('detect/x.ts', "import { fit } from '../train/fit.ts';")])).toHaveLength(1);
    expect(violations([at('nn/x.ts', "const m = await import('../cli/main.ts');")])).toHaveLength(1);
    expect(violations([at('train/x.ts', "export { Dense } from '../nn/dense.ts';\nimport w from '../../shaders/relu.wgsl';")])).toEqual([]);
  });
});
