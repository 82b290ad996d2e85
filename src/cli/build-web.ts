import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FerError } from '../backend/errors.ts';
import { DEFAULT_CASCADE } from '../detect/cascade-file.ts';
import { defineCommand, parseFlags } from './flags.ts';
import { webSite, type SiteOptions } from './web-files.ts';

export const BUILD_WEB = defineCommand({
  usage: 'fer build-web --out DIR [options]',
  about: `Writes the browser demo as static files any web server can host: fer.js (the library, an ES
module: import { loadModel } from './fer.js'), demo.js, explorer.js, index.html,
explorer.html, style.css, model.safetensors, cascade.xml and shaders/*.wgsl. Pages using
WebGPU need a secure context: https, or http on localhost.`,
  flags: {
    out: { kind: 'path', arg: 'DIR', help: 'where to write (created if missing; files there are overwritten)' },
    model: { kind: 'path', arg: 'FILE|RUN', help: 'model file or run folder (default: the shipped models/fer.safetensors)' },
    cascade: { kind: 'path', help: `face cascade XML (default ${DEFAULT_CASCADE})` },
  },
});

/** Writes the site to `out`; returns the paths written, relative to it. */
export async function buildWeb(out: string, opts: SiteOptions = {}): Promise<string[]> {
  const site = await webSite(opts);
  const written: string[] = [];
  for (const [path, entry] of site) {
    const rel = path.slice(1);
    const dest = join(out, rel);
    mkdirSync(dirname(dest), { recursive: true });
    if ('text' in entry) writeFileSync(dest, entry.text);
    else copyFileSync(entry.file, dest);
    written.push(rel);
  }
  return written.sort();
}

export async function buildWebCommand(argv: string[]): Promise<void> {
  const args = parseFlags(BUILD_WEB, argv);
  if (!args) return;
  const v = args.values;
  if (!v.out) throw new FerError('build-web needs --out DIR (fer build-web --help)');
  const files = await buildWeb(v.out, { model: v.model, cascade: v.cascade });
  console.log(`wrote ${files.length} files to ${v.out}: ${files.filter((f) => !f.startsWith('shaders/')).join(', ')} and shaders/*.wgsl`);
  console.log(`serve it with any static server on localhost (e.g. python3 -m http.server -d ${v.out}) and open index.html`);
}
