import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FerError } from '../backend/errors.ts';
import type { BackendName } from '../backend/tensor.ts';
import { modelFromBytes, type LoadedModel } from '../nn/model-file.ts';
import { openForInference, type InferenceModel } from '../nn/open-model.ts';

/** The model `fer predict` and `fer serve` use when none is named. */
export const SHIPPED_MODEL = fileURLToPath(new URL('../../models/fer.safetensors', import.meta.url));

/**
 * Refuses to write into the folder of the shipped model: its committed reports, curves and log
 * are the project's, and a run or an evaluation there would replace them.
 */
export function notShippedFolder(dir: string, flag: string): string {
  const shipped = resolve(dirname(SHIPPED_MODEL));
  if (resolve(dir) === shipped) throw new FerError(`${flag} ${dir}: ${shipped} holds the shipped model and its committed reports; choose another folder`);
  return dir;
}

/** A model file, or a run folder (its best.safetensors, else its model.safetensors). */
export function resolveModelPath(arg: string | undefined): string {
  const path = arg ?? SHIPPED_MODEL;
  if (!existsSync(path)) {
    if (arg === undefined) throw new FerError(`no model given and the shipped model ${path} is missing: pass --model FILE or train one with \`fer train\``);
    throw new FerError(`model not found: ${path}`);
  }
  if (statSync(path).isDirectory()) {
    for (const f of ['best.safetensors', 'model.safetensors']) if (existsSync(join(path, f))) return join(path, f);
    throw new FerError(`${path}: a folder without best.safetensors or model.safetensors (not a run folder?)`);
  }
  return path;
}

export function loadModelFile(arg: string | undefined, backend: BackendName): LoadedModel & { path: string } {
  const path = resolveModelPath(arg);
  return { ...modelFromBytes(new Uint8Array(readFileSync(path)), path, backend), path };
}

/** A model file (or run folder) opened for inference: folded unless `fold` is false, with its caveat. */
export async function openModelFile(arg: string | undefined, backend: BackendName, fold: boolean): Promise<InferenceModel & { path: string }> {
  const path = resolveModelPath(arg);
  return { ...(await openForInference(new Uint8Array(readFileSync(path)), path, backend, { fold })), path };
}
