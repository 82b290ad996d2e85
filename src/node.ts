/**
 * `fer-webgpu` in Node: the same model API as in a browser (src/index.ts), where a model or
 * cascade can also be a file path, the face cascade defaults to OpenCV's from Debian's
 * opencv-data package, and `readImage` decodes PNG and JPEG files for `predict`.
 *
 *   import { loadModel, readImage } from 'fer-webgpu';
 *   const model = await loadModel('models/fer.safetensors');
 *   const { faces } = await model.predict(readImage('photo.jpg'));
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FerError } from './backend/errors.ts';
import { DEFAULT_CASCADE } from './detect/cascade-file.ts';
import { parseCascade } from './detect/cascade.ts';
import { initWebGpu } from './backend/webgpu/backend.ts';
import { decodeImage } from './image/decode.ts';
import type { Image } from './image/image.ts';
import { loadModel as loadModelFromBytes, type BackendWish, type LoadOptions } from './web/index.ts';
import type { FerModel } from './web/fer-model.ts';

export * from './web/index.ts';
export type { Image } from './image/image.ts';

type Source = string | URL | ArrayBuffer | Uint8Array;

/** An http(s) URL goes to fetch; a path or file: URL is read from disk. */
function localPath(source: string | URL): string | null {
  const s = String(source);
  if (/^https?:\/\//i.test(s)) return null;
  return s.startsWith('file:') ? fileURLToPath(s) : s;
}

function readLocal(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FerError(`loadModel: cannot read the ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Loads a model file (path, file: or http(s) URL, or bytes) and the face cascade (default:
 * OpenCV's frontal-face cascade from opencv-data; null: no detection, pass { detect: false }).
 */
export async function loadModel(source: Source, opts: LoadOptions = {}): Promise<FerModel> {
  let bytes: Source = source;
  if (typeof source === 'string' || source instanceof URL) {
    const path = localPath(source);
    if (path !== null) bytes = readLocal(path, 'model');
  }
  let cascade = opts.cascade;
  if (cascade === undefined) {
    if (!existsSync(DEFAULT_CASCADE)) {
      throw new FerError(`loadModel: the face cascade ${DEFAULT_CASCADE} is missing: install opencv-data, pass { cascade: PATH }, or { cascade: null } to classify ready-made face crops`);
    }
    cascade = DEFAULT_CASCADE;
  }
  if (typeof cascade === 'string' || cascade instanceof URL) {
    const path = localPath(cascade);
    if (path !== null) cascade = parseCascade(new TextDecoder().decode(readLocal(path, 'face cascade')), path);
  }
  return loadModelFromBytes(bytes, { ...opts, cascade, backend: await nodeBackend(opts.backend ?? 'auto') });
}

/**
 * As the CLI decides: 'auto' takes WebGPU (Dawn) on a hardware adapter only; on a software one
 * (SwiftShader) our CPU path is faster.
 */
async function nodeBackend(wish: BackendWish): Promise<BackendWish> {
  if (wish !== 'auto') return wish;
  try {
    return (await initWebGpu()).info.software ? 'cpu' : 'webgpu';
  } catch (e) {
    if (e instanceof FerError) return 'cpu';
    throw e;
  }
}

/** Decodes a PNG or JPEG file (a path or its bytes) into pixels `predict` takes. */
export function readImage(file: string | Uint8Array): Image {
  if (typeof file === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new FerError(`readImage: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return decodeImage(bytes, file);
  }
  if (!(file instanceof Uint8Array)) throw new FerError(`readImage: expected a path or a Uint8Array, got ${typeof file}`);
  return decodeImage(file, 'the image bytes');
}
