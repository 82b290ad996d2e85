/**
 * fer.js: facial emotion recognition in a web page, on WebGPU where the browser has it and on
 * the CPU where it does not. An ES module; no bundler needed:
 *
 *   import { loadModel, decodeImageFile } from './fer.js';
 *   const model = await loadModel('model.safetensors');
 *   const { faces } = await model.predict(await decodeImageFile(file));
 */
import { FerError } from '../backend/errors.ts';
import { parseCascade, type Cascade } from '../detect/cascade.ts';
import { openForInference } from '../nn/open-model.ts';
import { FerModel } from './fer-model.ts';
import { openBackend, type BackendWish } from './open-backend.ts';

export { EMOTION_COLORS } from '../detect/annotate.ts';
export type { FaceBox, FaceEmotion } from '../detect/recognize.ts';
export { FerError } from '../backend/errors.ts';
export { parseCascade, type Cascade } from '../detect/cascade.ts';
export { FerModel, type FaceCrop, type LayerTiming, type Prediction, type PredictOptions } from './fer-model.ts';
export type { LayerInfo } from './layer-info.ts';
export { decodeImageFile, readPixels, type PixelSource } from './pixels.ts';
export type { BackendWish } from './open-backend.ts';

export interface LoadOptions {
  /** 'auto' (default): WebGPU when the browser offers an adapter, else the CPU. */
  backend?: BackendWish;
  /** The face detector: a cascade XML's URL (default cascade.xml beside fer.js), a parsed Cascade, or null: no detection. */
  cascade?: string | URL | Cascade | null;
  /** false: predict() runs the layers as trained instead of with each batch norm folded into the layer before it. Default true. */
  fold?: boolean;
}

async function fetchOk(url: string | URL, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new FerError(`loadModel: cannot fetch the ${what} ${url} (${(e as Error).message})`);
  }
  if (!res.ok) throw new FerError(`loadModel: the ${what} ${url} answered ${res.status} ${res.statusText}`.trim());
  return res;
}

async function modelBytes(source: string | URL | ArrayBuffer | Uint8Array): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'the model bytes' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'the model bytes' };
  if (typeof source === 'string' || source instanceof URL) {
    const res = await fetchOk(source, 'model');
    return { bytes: new Uint8Array(await res.arrayBuffer()), name: String(source) };
  }
  throw new FerError(`loadModel: source must be a URL, an ArrayBuffer or a Uint8Array, got ${(source as object)?.constructor?.name ?? typeof source}`);
}

async function loadCascade(where: string | URL | Cascade | null | undefined): Promise<Cascade | null> {
  if (where === null) return null;
  if (typeof where === 'object' && !(where instanceof URL)) return where;
  const url = where ?? new URL('./cascade.xml', import.meta.url);
  const res = await fetchOk(url, 'face cascade');
  return parseCascade(await res.text(), String(url));
}

/** Fetches (or takes) a model file and the face cascade, and opens the backend it runs on. */
export async function loadModel(source: string | URL | ArrayBuffer | Uint8Array, opts: LoadOptions = {}): Promise<FerModel> {
  const [opened, { bytes, name }, cascade] = await Promise.all([openBackend(opts.backend ?? 'auto'), modelBytes(source), loadCascade(opts.cascade)]);
  const { model, metadata, inference, caveat } = await openForInference(bytes, name, opened.backend, { fold: opts.fold });
  return new FerModel({
    sequential: model,
    inference,
    metadata,
    cascade,
    backend: opened.backend,
    backendReason: opened.reason,
    gpu: opened.gpu,
    warning: caveat?.replace(/^warning: /, '') ?? null,
  });
}
