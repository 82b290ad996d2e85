import { readFileSync } from 'node:fs';
import type { BackendName } from '../backend/tensor.ts';
import type { Dataset } from '../data/dataset.ts';
import { modelFromBytes } from '../nn/model-file.ts';
import { evaluate } from '../train/evaluate.ts';
import { metricsFromConfusion } from '../train/metrics.ts';
import { writeEvaluation } from '../train/report.ts';
import type { RunFolder } from '../train/run-folder.ts';
import type { RunState } from '../train/run-state.ts';

/** After training: evaluates the best weights on the validation split and writes the report beside them. */
export async function writeReport(run: RunFolder, val: Dataset, state: RunState, backend: BackendName): Promise<string[]> {
  const file = run.path('best.safetensors');
  const { model } = modelFromBytes(new Uint8Array(readFileSync(file)), file, backend);
  try {
    const e = await evaluate(model, val);
    const m = metricsFromConfusion(e.confusion, model.classes);
    const best = state.log.reduce((a, r) => ((r.valLoss ?? Infinity) < (a.valLoss ?? Infinity) ? r : a), state.log[0]);
    const heading = `${file}: epoch ${best?.epoch} of ${state.log.length}, evaluated on ${val.count} validation images (${state.settings.data})`;
    return writeEvaluation(run, 'report', { heading, title: `best epoch (${best?.epoch}), validation` }, m, state.log);
  } finally {
    model.dispose();
  }
}
