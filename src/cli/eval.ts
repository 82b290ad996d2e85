import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { FerError } from '../backend/errors.ts';
import { sampleSplits, USAGES, type Usage } from '../data/dataset.ts';
import { describeSkipped } from '../data/skipped.ts';
import { loadData } from '../data/load.ts';
import { evaluate } from '../train/evaluate.ts';
import { formatMetrics, metricsFromConfusion } from '../train/metrics.ts';
import { writeEvaluation } from '../train/report.ts';
import { RunFolder } from '../train/run-folder.ts';
import type { EpochRecord } from '../train/run-state.ts';
import { BACKEND_FLAG, chooseBackend } from './backend-choice.ts';
import { defineCommand, parseFlags } from './flags.ts';
import { notShippedFolder, openModelFile, SHIPPED_MODEL } from './model-source.ts';
import { checkTestTime, chooseTestTime, TEST_TIME_MODES, type TestTime } from '../nn/test-time.ts';
import { bar, ProgressLine } from './progress.ts';

export const EVAL = defineCommand({
  usage: 'fer eval --data PATH [--model RUN|FILE] [options]',
  about: `Accuracy, per-class precision, recall and F1, macro-F1 and the confusion matrix of a model on
one split of a data set. Writes eval-<split>[-limit<N>][-flip].txt/.json and -confusion.png
(the name says what the report covers), and curves.png from the run's log.json when there is
one: into the run folder of a model you trained, into runs/eval-<model> for the shipped model
(its committed reports in models/ are never overwritten), or into --out.`,
  flags: {
    model: { kind: 'path', arg: 'RUN|FILE', help: 'run folder (its best.safetensors) or model file (default: the shipped model)' },
    data: { kind: 'path', help: 'FER2013 CSV (plain or .gz) or image folder' },
    split: { kind: 'choice', choices: USAGES, default: 'PublicTest', help: 'the split to evaluate' },
    limit: { kind: 'int', help: 'N images drawn at random (seeded; the CSV may list a split sorted by class)' },
    flip: { kind: 'bool', help: "test-time augmentation: average each face's probabilities with its mirror's (= --tta flip)" },
    tta: {
      kind: 'choice',
      choices: TEST_TIME_MODES,
      help: 'test-time averaging: none, flip (and the mirror), ten-crop (4 corners + centre and mirrors, for models of crops); default: what the model file records',
    },
    'skip-bad': { kind: 'bool', help: 'skip bad rows/images (reported, with the first few in full) instead of stopping' },
    'no-fold': { kind: 'bool', help: 'run the layers as trained (default: each batch norm folded into the conv/dense before it)' },
    backend: BACKEND_FLAG,
    out: { kind: 'path', arg: 'DIR', help: 'report folder (default: the run folder, or runs/eval-<model> for the shipped model)' },
    json: { kind: 'bool', help: 'print only one JSON object on stdout (accuracy, perClass, confusion, count)' },
  },
});

/** Where the report goes: --out, else beside a model the user trained, never into the shipped models/ folder. */
export function evalReportDir(out: string | undefined, modelPath: string): string {
  const shipped = resolve(dirname(SHIPPED_MODEL));
  const dir = out ?? (resolve(dirname(modelPath)) === shipped ? join('runs', `eval-${basename(modelPath, extname(modelPath))}`) : dirname(modelPath));
  return notShippedFolder(dir, '--out');
}

/** eval-<split>[-limit<N>][-flip|-ten-crop]: a report's name says what it covers. */
export function evalReportName(split: string, limit: number | undefined, flip: boolean | TestTime): string {
  const tta = flip === true ? 'flip' : flip === false ? 'none' : flip;
  return `eval-${split}${limit === undefined ? '' : `-limit${limit}`}${tta === 'none' ? '' : `-${tta}`}`;
}

export async function evalCommand(argv: string[]): Promise<void> {
  const args = parseFlags(EVAL, argv);
  if (!args) return;
  const v = args.values;
  if (!v.data) throw new FerError('eval needs --data PATH (a FER2013 CSV or an image folder)');
  const split = v.split as Usage;
  const limit = v.limit;

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const { inference: model, metadata, path, caveat } = await openModelFile(v.model, backend, !v['no-fold']);
  const reportDir = evalReportDir(v.out, path);
  if (caveat) say(caveat);
  // Before the data is read: ten-crop on a model of whole faces is refused at once.
  const testTime = chooseTestTime(metadata, v.tta, v.flip);
  checkTestTime(testTime, model.inputShape[model.inputShape.length - 1]);

  const progress = new ProgressLine();
  const { splits, skipped } = await loadData(v.data, {
    splits: [split],
    skipBad: v['skip-bad'],
    onProgress: (f: number, n: number) => progress.update(`loading ${v.data} ${bar(f)} ${n} images`),
  });
  progress.done();
  for (const line of describeSkipped(skipped)) say(line);
  const ds = sampleSplits(splits, limit, 1)[split];
  if (!ds || ds.count === 0) throw new FerError(`${v.data}: no ${split} images${split === 'PrivateTest' ? ' (this copy of FER2013 withholds PrivateTest)' : ''}`);

  const t0 = performance.now();
  const flip = testTime === 'flip';
  const e = await evaluate(model, ds, { testTime, onProgress: (done, total) => progress.update(`evaluating ${bar(done / total)} ${done}/${total}`) });
  progress.done();
  const seconds = (performance.now() - t0) / 1000;
  const m = metricsFromConfusion(e.confusion, model.classes);

  const logFile = join(dirname(path), 'log.json');
  const log: EpochRecord[] | null = existsSync(logFile) ? JSON.parse(readFileSync(logFile, 'utf8')) : null;
  const heading = `${path} on ${split} of ${v.data} (${ds.count} images${limit === undefined ? '' : ` drawn at random, --limit ${limit}`}${testTime === 'none' ? '' : `, ${testTime} test-time averaging`}, ${backend}, ${seconds.toFixed(1)} s)`;
  let files: string[] = [];
  try {
    files = writeEvaluation(RunFolder.create(reportDir), evalReportName(split, limit, testTime), { heading, title: split }, m, log);
  } catch (err) {
    say(`note: could not write the report into ${reportDir} (${(err as Error).message})`);
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ accuracy: m.accuracy, flip, testTime, macroF1: m.macroF1, perClass: m.perClass, confusion: m.confusion, count: m.count, loss: e.loss })}\n`);
  } else {
    console.log(heading);
    console.log('');
    console.log(formatMetrics(m));
    console.log(`mean cross-entropy ${e.loss.toFixed(4)}`);
  }
  if (files.length > 0) say(`wrote ${files.join(', ')}`);
}
