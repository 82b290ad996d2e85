import { tensor } from '../backend/create.ts';
import { FerError } from '../backend/errors.ts';
import { Random } from '../backend/random.ts';
import { keep } from '../backend/scope.ts';
import type { BackendName } from '../backend/tensor.ts';
import { modelFromSpec } from './models.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.ts';
import type { ModelSpec, Sequential } from './sequential.ts';

/**
 * A model file is a safetensors file: every parameter under its name (`conv2d.weight`,
 * `batch_normalization.running_mean`, …) and, in the metadata, the architecture and class
 * names as JSON, so Python can read the weights and we can rebuild the model from the file
 * alone. Extra metadata (how it was trained, its accuracy) rides along as strings.
 */
export const MODEL_FORMAT = 'fer-webgpu/1';

export async function modelToBytes(model: Sequential, extra: Record<string, string> = {}): Promise<Uint8Array> {
  const tensors = new Map<string, NamedTensor>();
  for (const p of model.params()) tensors.set(p.name, { shape: [...p.value.shape], data: await p.value.read() });
  return encodeSafetensors(tensors, {
    ...extra,
    format: MODEL_FORMAT,
    architecture: JSON.stringify(model.spec()),
    classes: JSON.stringify(model.classes),
  });
}

export interface LoadedModel {
  model: Sequential;
  metadata: Record<string, string>;
}

export function modelFromBytes(bytes: Uint8Array, source: string, backend: BackendName): LoadedModel {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== MODEL_FORMAT) {
    throw new FerError(`${source}: not a fer-webgpu model (metadata format is ${JSON.stringify(metadata.format ?? null)}, wanted "${MODEL_FORMAT}")`);
  }
  let spec: ModelSpec;
  try {
    spec = JSON.parse(metadata.architecture);
  } catch {
    throw new FerError(`${source}: the architecture metadata is not valid JSON`);
  }
  let model: Sequential;
  try {
    model = modelFromSpec(spec);
  } catch (e) {
    throw new FerError(`${source}: ${(e as Error).message}`);
  }
  // Build to get every parameter with its expected shape, then overwrite with the stored values.
  model.build(new Random(0), backend);
  try {
    const seen = new Set<string>();
    for (const p of model.params()) {
      const t = tensors.get(p.name);
      if (!t) throw new FerError(`${source}: tensor "${p.name}" is missing`);
      if (t.shape.length !== p.value.shape.length || t.shape.some((d, i) => d !== p.value.shape[i])) {
        throw new FerError(`${source}: tensor "${p.name}" has shape [${t.shape}], the architecture needs [${p.value.shape}]`);
      }
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new FerError(`${source}: tensor "${p.name}" holds ${t.data[bad]} at index ${bad}`);
      p.value.dispose();
      p.value = keep(tensor(t.data, t.shape, backend));
      seen.add(p.name);
    }
    const extra = [...tensors.keys()].filter((k) => !seen.has(k));
    if (extra.length > 0) throw new FerError(`${source}: tensors not in the architecture: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''}`);
  } catch (e) {
    model.dispose(); // the GPU buffers of a half-loaded model
    throw e;
  }
  return { model, metadata };
}
