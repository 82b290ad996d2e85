import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { FerError } from '../backend/errors.ts';
import { DEFAULT_CASCADE } from '../detect/cascade-file.ts';
import { webSite, type SiteOptions } from './web-files.ts';

export const BUILD_WEB_HELP = `fer build-web --out DIR [options]

Writes the browser demo as static files any web server can host: fer.js (the library, an ES
module: import { loadModel } from './fer.js'), demo.js, explorer.js, index.html,
explorer.html, style.css, model.safetensors, cascade.xml and shaders/*.wgsl. Pages using
WebGPU need a secure context: https, or http on localhost.

  --out DIR           where to write (created if missing; files there are overwritten)
  --model FILE|RUN    model file or run folder (default: the shipped models/fer.safetensors)
  --cascade PATH      face cascade XML (default ${DEFAULT_CASCADE})`;

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
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      model: { type: 'string' },
      cascade: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(BUILD_WEB_HELP);
  if (positionals.length > 0) throw new FerError(`build-web takes no positional arguments, got "${positionals[0]}" (fer build-web --help)`);
  if (!v.out) throw new FerError('build-web needs --out DIR (fer build-web --help)');
  const files = await buildWeb(v.out, { model: v.model, cascade: v.cascade });
  console.log(`wrote ${files.length} files to ${v.out}: ${files.filter((f) => !f.startsWith('shaders/')).join(', ')} and shaders/*.wgsl`);
  console.log(`serve it with any static server on localhost (e.g. python3 -m http.server -d ${v.out}) and open index.html`);
}
