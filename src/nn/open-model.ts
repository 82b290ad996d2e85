import type { BackendName } from '../backend/tensor.ts';
import { foldForInference } from './fold.ts';
import { modelFromBytes, type LoadedModel } from './model-file.ts';
import type { Sequential } from './sequential.ts';
import { fer2013Caveat } from './training-caveat.ts';

export interface InferenceModel extends LoadedModel {
  /** What predictions run: the folded copy (fold.ts), or the model as trained with `fold: false`. */
  inference: Sequential;
  /** `warning: …` when the file does not say it learned from FER2013 (training-caveat.ts), else null. */
  caveat: string | null;
}

/**
 * Opens a model file for inference, the one way `fer eval`, `fer predict` and the web library's
 * loadModel do it: decode on `backend`, fold unless told not to, and the FER2013 caveat.
 */
export async function openForInference(bytes: Uint8Array, source: string, backend: BackendName, opts: { fold?: boolean } = {}): Promise<InferenceModel> {
  const { model, metadata } = modelFromBytes(bytes, source, backend);
  const inference = opts.fold === false ? model : await foldForInference(model);
  return { model, metadata, inference, caveat: fer2013Caveat(metadata, source) };
}
