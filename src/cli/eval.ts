import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FerError } from '../backend/errors.ts';
import { sampleSplits, USAGES, type Usage } from '../data/dataset.ts';
import { loadData } from '../data/load.ts';
import { evaluate } from '../train/evaluate.ts';
import { formatMetrics, metricsFromConfusion } from '../train/metrics.ts';
import { writeEvaluation } from '../train/report.ts';
import { RunFolder } from '../train/run-folder.ts';
import type { EpochRecord } from '../train/run-state.ts';
import { chooseBackend } from './backend-choice.ts';
import { loadModelFile } from './model-source.ts';
import { foldForInference } from '../nn/fold.ts';
import { fer2013Caveat } from '../nn/training-caveat.ts';
import { bar, ProgressLine } from './progress.ts';

export const EVAL_HELP = `fer eval --model RUN|FILE --data PATH [options]

Accuracy, per-class precision, recall and F1, macro-F1 and the confusion matrix of a model on
one split of a data set. Writes eval-<split>.txt/.json and eval-<split>-confusion.png into the
run folder (the model file's folder), and curves.png from the run's log.json when there is one.

  --model RUN|FILE       run folder (its best.safetensors) or model file (default: the shipped model)
  --data PATH            FER2013 CSV (plain or .gz) or image folder
  --split NAME           PublicTest (default), PrivateTest or Training
  --limit N              N images drawn at random (seeded; the CSV may list a split sorted by class)
  --flip                 test-time augmentation: average each face's probabilities with its mirror's
  --skip-bad             skip bad rows/images instead of stopping
  --no-fold              run the layers as trained (default: each batch norm folded into the conv/dense before it)
  --backend webgpu|cpu   (default: webgpu, falling back to cpu)
  --json                 print only one JSON object on stdout (accuracy, perClass, confusion, count)`;

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string', default: 'PublicTest' },
      limit: { type: 'string' },
      flip: { type: 'boolean' },
      'skip-bad': { type: 'boolean' },
      'no-fold': { type: 'boolean' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(EVAL_HELP);
  if (!v.data) throw new FerError('eval needs --data PATH (a FER2013 CSV or an image folder)');
  const split = v.split as Usage;
  if (!USAGES.includes(split)) throw new FerError(`--split must be one of ${USAGES.join(', ')}, got "${v.split}"`);
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new FerError(`--limit must be a positive integer, got "${v.limit}"`);

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const loaded = loadModelFile(v.model, backend);
  const { metadata, path } = loaded;
  const model = v['no-fold'] ? loaded.model : await foldForInference(loaded.model);
  const caveat = fer2013Caveat(metadata, path);
  if (caveat) say(caveat);

  const progress = new ProgressLine();
  const { splits, skipped } = await loadData(v.data, {
    splits: [split],
    skipBad: Boolean(v['skip-bad']),
    onProgress: (f: number, n: number) => progress.update(`loading ${v.data} ${bar(f)} ${n} images`),
  });
  progress.done();
  if (skipped.count > 0) say(`skipped ${skipped.count} bad rows/images: ${Object.entries(skipped.reasons).map(([r, n]) => `${n}× ${r}`).join('; ')}`);
  const ds = sampleSplits(splits, limit, 1)[split];
  if (!ds || ds.count === 0) throw new FerError(`${v.data}: no ${split} images${split === 'PrivateTest' ? ' (this copy of FER2013 withholds PrivateTest)' : ''}`);

  const t0 = performance.now();
  const flip = Boolean(v.flip);
  const e = await evaluate(model, ds, { flip, onProgress: (done, total) => progress.update(`evaluating ${bar(done / total)} ${done}/${total}`) });
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  const m = metricsFromConfusion(e.confusion, model.classes);

  const runDir = dirname(path);
  const logFile = `${runDir}/log.json`;
  const log: EpochRecord[] | null = existsSync(logFile) ? JSON.parse(readFileSync(logFile, 'utf8')) : null;
  const heading = `${path} on ${split} of ${v.data} (${ds.count} images${flip ? ', flip test-time averaging' : ''}, ${backend}, ${seconds.toFixed(1)} s)`;
  let files: string[] = [];
  try {
    files = writeEvaluation(new RunFolder(runDir), `eval-${split}${flip ? '-flip' : ''}`, { heading, title: split }, m, log);
  } catch (err) {
    say(`note: could not write the report into ${runDir} (${(err as Error).message})`);
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ accuracy: m.accuracy, flip, macroF1: m.macroF1, perClass: m.perClass, confusion: m.confusion, count: m.count, loss: e.loss })}\n`);
  } else {
    console.log(heading);
    console.log('');
    console.log(formatMetrics(m));
    console.log(`mean cross-entropy ${e.loss.toFixed(4)}`);
  }
  if (files.length > 0) say(`wrote ${files.join(', ')}`);
}
