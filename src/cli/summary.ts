import { Random } from '../backend/random.ts';
import { createModel, MODEL_NAMES } from '../nn/models.ts';
import type { Sequential } from '../nn/sequential.ts';
import { defineCommand, parseFlags } from './flags.ts';
import { loadModelFile, SHIPPED_MODEL } from './model-source.ts';

export const SUMMARY = defineCommand({
  usage: `fer summary [--model ${MODEL_NAMES.join('|')}|FILE|RUN]`,
  about: `Prints the model's layers as Keras does: name and type, output shape, parameter count,
then the totals (trainable and non-trainable) and the multiply-adds per image.`,
  flags: {
    model: {
      kind: 'text',
      arg: 'NAME|FILE|RUN',
      help: `${MODEL_NAMES.join(', ')} (a freshly built network at its default input side),
a model file or a run folder (default: the shipped model, models/fer.safetensors)`,
    },
  },
});

export function formatSummary(model: Sequential): string {
  const s = model.summary();
  const n = (v: number) => v.toLocaleString('en-US');
  const rows = s.rows.map((r) => [`${r.name} (${r.type})`, `(None, ${r.outputShape.join(', ')})`, n(r.params)]);
  const w0 = Math.max(24, ...rows.map((r) => r[0].length)) + 2;
  const w1 = Math.max(20, ...rows.map((r) => r[1].length)) + 2;
  const width = w0 + w1 + 12;
  const line = (c: string) => c.repeat(width);
  return [
    `Model: "${model.name}"   input (None, ${model.inputShape.join(', ')})`,
    line('─'),
    `${'Layer (type)'.padEnd(w0)}${'Output Shape'.padEnd(w1)}${'Param #'.padStart(12)}`,
    line('═'),
    ...rows.map((r) => `${r[0].padEnd(w0)}${r[1].padEnd(w1)}${r[2].padStart(12)}`),
    line('═'),
    `Total params: ${n(s.total)}`,
    `Trainable params: ${n(s.trainable)}`,
    `Non-trainable params: ${n(s.nonTrainable)}`,
    line('─'),
    `Multiply-adds per image: ${n(s.macs)} (${((2 * s.macs) / 1e9).toFixed(2)} GFLOP forward)`,
  ].join('\n');
}

export async function summaryCommand(argv: string[]): Promise<void> {
  const args = parseFlags(SUMMARY, argv);
  if (!args) return;
  const name = args.values.model;
  let model: Sequential;
  // A model name wins over a file or folder of that name in the working directory.
  if ((MODEL_NAMES as readonly string[]).includes(name ?? '')) model = createModel(name!).build(new Random(0), 'cpu');
  else model = loadModelFile(name, 'cpu').model;
  if (name === undefined) console.log(`${SHIPPED_MODEL} (the shipped model; --model ${MODEL_NAMES.join(', ')} for the architectures)`);
  console.log(formatSummary(model));
}
