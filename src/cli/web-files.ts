import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerError } from '../backend/errors.ts';
import { DEFAULT_CASCADE, loadCascadeFile } from '../detect/cascade-file.ts';
import { loadModelFile } from './model-source.ts';
import { bundleWeb } from './web-bundle.ts';

const PAGES = fileURLToPath(new URL('../web/pages/', import.meta.url));
const SHADERS = fileURLToPath(new URL('../../shaders/', import.meta.url));

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** One file of the site: text made at start (the bundle) or a file on disk, read when asked for. */
export type WebFile = { type: string } & ({ text: string } | { file: string });

export interface SiteOptions {
  /** A model file or run folder; default the shipped model. */
  model?: string;
  /** Cascade XML; default OpenCV's frontal face cascade. */
  cascade?: string;
}

/**
 * Every file `fer serve` answers and `fer build-web` writes, by URL path: the pages, the bundle,
 * the model, the cascade and the WGSL sources the explorer shows. A fixed table, so a request
 * can name nothing else.
 */
export async function webSite(opts: SiteOptions = {}): Promise<Map<string, WebFile>> {
  // Parsed now, so a bad model file is one line at start rather than an error in the browser.
  const model = loadModelFile(opts.model, 'cpu').path;
  const cascade = opts.cascade ?? DEFAULT_CASCADE;
  if (!existsSync(cascade) || !statSync(cascade).isFile()) {
    throw new FerError(
      `face cascade ${cascade} not found: install Debian's opencv-data package (apt-get install opencv-data) or pass --cascade PATH`,
    );
  }
  loadCascadeFile(cascade);
  const site = new Map<string, WebFile>();
  const typeOf = (name: string) => CONTENT_TYPES[extname(name)] ?? 'application/octet-stream';
  for (const [name, text] of await bundleWeb()) site.set(`/${name}`, { type: typeOf(name), text });
  for (const name of readdirSync(PAGES)) site.set(`/${name}`, { type: typeOf(name), file: join(PAGES, name) });
  for (const name of readdirSync(SHADERS).filter((n) => n.endsWith('.wgsl'))) {
    site.set(`/shaders/${name}`, { type: typeOf(name), file: join(SHADERS, name) });
  }
  site.set('/model.safetensors', { type: CONTENT_TYPES['.safetensors'], file: model });
  site.set('/cascade.xml', { type: CONTENT_TYPES['.xml'], file: cascade });
  return site;
}
