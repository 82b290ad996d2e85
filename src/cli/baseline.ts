import { FerError } from '../backend/errors.ts';
import type { BackendName } from '../backend/tensor.ts';
import { knnPredict } from '../baseline/knn.ts';
import { pixelSamples, type Samples as PixelSamples } from '../baseline/samples.ts';
import { KERNELS, svmPredict, SVM_DEFAULTS, type SvmKernel } from '../baseline/svm-pipeline.ts';
import { sampleSplits, type Usage } from '../data/dataset.ts';
import { describeSkipped } from '../data/skipped.ts';
import { EMOTIONS } from '../data/emotions.ts';
import { loadData } from '../data/load.ts';
import { emptyConfusion, formatMetrics, metricsFromConfusion } from '../train/metrics.ts';
import { writeEvaluation } from '../train/report.ts';
import { RunFolder } from '../train/run-folder.ts';
import { METRICS, type Metric } from '../ops/pairwise-distance.ts';
import { BACKEND_FLAG, chooseBackend } from './backend-choice.ts';
import { defineCommand, parseFlags, type FlagValues } from './flags.ts';
import { bar, duration, ProgressLine } from './progress.ts';
import { machineLoad } from './timing.ts';

export const BASELINE = defineCommand({
  usage: 'fer baseline knn|svm --data PATH [options]',
  about: `The classical baselines on raw pixels: k-nearest neighbours, or a one-vs-rest linear SVM on
standardized pixels (--kernel linear) or on an explicit feature map of the RBF or polynomial
kernel. Trains on the Training split, evaluates on --split, and reports like fer eval:
accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix, written to
baseline-<split>.txt/.json/-confusion.png in --out.`,
  positionals: { min: 0, max: 1, what: 'one method, knn or svm' },
  flags: {
    data: { kind: 'path', help: 'FER2013 CSV (plain or .gz) or image folder' },
    split: { kind: 'choice', choices: ['PublicTest', 'PrivateTest'], default: 'PublicTest', help: 'the split to test on' },
    limit: { kind: 'int', help: 'N images of each split, drawn at random (seeded by --seed; the FER2013\nCSV may list a split sorted by class, so not the first N)' },
    backend: BACKEND_FLAG,
    out: { kind: 'path', arg: 'DIR', help: 'report folder (default: runs/baseline-<method>)' },
    json: { kind: 'bool', help: 'print only one JSON object on stdout' },
    'skip-bad': { kind: 'bool', help: 'skip bad rows/images (reported, with the first few in full) instead of stopping' },
    k: { kind: 'int', default: 1, section: '\nknn (pixels 0–255; the distances are computed on the backend):', help: 'neighbours that vote; ties go to the class of the nearest' },
    metric: { kind: 'choice', choices: METRICS, default: 'l1', help: 'Manhattan (l1) or Euclidean (l2) distance' },
    kernel: { kind: 'choice', choices: KERNELS, default: 'rbf', section: '\nsvm (Pegasos SGD on the hinge loss with L2 regularisation, seeded shuffling):', help: 'the kernel' },
    features: { kind: 'int', arg: 'D', help: `random features (default ${SVM_DEFAULTS.features.rbf} for rbf, ${SVM_DEFAULTS.features.poly} for poly)` },
    gamma: { kind: 'number', arg: 'G', min: 0, open: 'min', help: 'rbf exp(-G·|x-y|²) (default 1/(4·2304)), poly (G·x·y + 1)^degree\n(default 1/2304), on standardized pixels' },
    degree: { kind: 'int', arg: 'P', default: SVM_DEFAULTS.degree, help: 'poly degree' },
    lambda: { kind: 'number', arg: 'L', min: 0, open: 'min', default: SVM_DEFAULTS.lambda, help: 'L2 regularisation (C = 1/(L·n))' },
    epochs: { kind: 'int', default: SVM_DEFAULTS.epochs, help: 'passes over the training set' },
    seed: { kind: 'int', arg: 'S', min: 0, default: SVM_DEFAULTS.seed, help: "feature-map and shuffling seed, and --limit's draw" },
  },
});

type BaselineFlags = FlagValues<typeof BASELINE.flags>;
type Method = 'knn' | 'svm';

/** The method's settings; a flag of the other method is an error rather than silently ignored. */
function methodOptions(method: Method, v: BaselineFlags, given: Set<string>) {
  const knnOnly = ['k', 'metric'].filter((o) => given.has(o));
  const svmOnly = ['kernel', 'features', 'gamma', 'degree', 'lambda', 'epochs'].filter((o) => given.has(o));
  if (method === 'knn' && svmOnly.length > 0) throw new FerError(`--${svmOnly[0]} is an svm option, not knn's`);
  if (method === 'svm' && knnOnly.length > 0) throw new FerError(`--${knnOnly[0]} is a knn option, not svm's`);
  const kernel = v.kernel as SvmKernel;
  const svm = {
    kernel,
    features: v.features ?? SVM_DEFAULTS.features[kernel],
    gamma: v.gamma ?? SVM_DEFAULTS.gamma[kernel],
    degree: v.degree,
    lambda: v.lambda,
    epochs: v.epochs,
    seed: v.seed,
  };
  const knn = { k: v.k, metric: v.metric as Metric };
  return { knn, svm, name: method === 'knn' ? `knn-${knn.metric}-k${knn.k}` : `svm-${kernel}` };
}

/** The Training split and the test split, each sampled by --limit, as pixel rows. */
async function loadSamples(v: BaselineFlags, data: string, split: Usage, seed: number, say: (l: string) => void, progress: ProgressLine) {
  const { splits, skipped } = await loadData(data, {
    splits: ['Training', split],
    skipBad: v['skip-bad'],
    onProgress: (f: number, n: number) => progress.update(`loading ${data} ${bar(f)} ${n} images`),
  });
  progress.done();
  for (const line of describeSkipped(skipped)) say(line);
  const sampled = sampleSplits(splits, v.limit, seed);
  const trainDs = sampled.Training;
  const testDs = sampled[split];
  if (!trainDs || trainDs.count === 0) throw new FerError(`${data}: no Training images to learn from`);
  if (!testDs || testDs.count === 0) throw new FerError(`${data}: no ${split} images${split === 'PrivateTest' ? ' (this copy of FER2013 withholds PrivateTest)' : ''}`);
  return { train: pixelSamples(trainDs), test: pixelSamples(testDs) };
}

/** Runs the method: the test set's predicted classes and a one-line description of what ran. */
async function runMethod(method: Method, o: ReturnType<typeof methodOptions>, train: PixelSamples, test: PixelSamples, backend: BackendName, progress: ProgressLine) {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  if (method === 'knn') {
    const { k, metric } = o.knn;
    const predictions = await knnPredict(train, test, {
      k,
      metric,
      backend,
      classes: EMOTIONS.length,
      onProgress: (done, total) =>
        progress.update(`knn ${bar(done / total)} ${done}/${total} test images, ${duration(elapsed())} elapsed, ${duration((elapsed() * (total - done)) / done)} left`),
    });
    return { predictions, described: `KNN k=${k} ${metric}`, seconds: elapsed() };
  }
  const { svm } = o;
  const described = `SVM ${svm.kernel}${svm.kernel === 'linear' ? '' : ` (${svm.features} random features, gamma ${svm.gamma.toPrecision(3)}${svm.kernel === 'poly' ? `, degree ${svm.degree}` : ''})`}, lambda ${svm.lambda}, ${svm.epochs} epochs, seed ${svm.seed}`;
  const predictions = await svmPredict(train, test, { ...svm, backend, classes: EMOTIONS.length, onStatus: (line) => progress.update(line) });
  return { predictions, described, seconds: elapsed() };
}

export async function baselineCommand(argv: string[]): Promise<void> {
  const args = parseFlags(BASELINE, argv);
  if (!args) return;
  const { values: v, positionals, given } = args;
  const method = positionals[0];
  if (method !== 'knn' && method !== 'svm') throw new FerError(`baseline needs a method, knn or svm, got ${method === undefined ? 'none' : `"${method}"`}`);
  if (!v.data) throw new FerError('baseline needs --data PATH (a FER2013 CSV or an image folder)');
  const split = v.split as Usage;
  const o = methodOptions(method, v, given);
  const out = v.out ?? `runs/baseline-${o.name}`;

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const progress = new ProgressLine();
  const { train, test } = await loadSamples(v, v.data, split, o.svm.seed, say, progress);
  const { predictions, described, seconds } = await runMethod(method, o, train, test, backend, progress);
  progress.done();
  const load = machineLoad();

  const confusion = emptyConfusion(EMOTIONS.length);
  for (let i = 0; i < test.count; i++) confusion[test.labels[i]][predictions[i]]++;
  const m = metricsFromConfusion(confusion, [...EMOTIONS]);
  const heading = `${described}: trained on ${train.count} Training images, tested on ${test.count} ${split} images of ${v.data} (${backend}, ${seconds.toFixed(1)} s, load average ${load.toFixed(2)})`;
  let files: string[] = [];
  try {
    files = writeEvaluation(RunFolder.create(out), `baseline-${split}`, { heading, title: `${described}, ${split}` }, m, null);
  } catch (err) {
    say(`note: could not write the report into ${out} (${(err as Error).message})`);
  }
  if (v.json) {
    const options = method === 'knn' ? o.knn : o.svm;
    process.stdout.write(
      `${JSON.stringify({ method, options, split, accuracy: m.accuracy, macroF1: m.macroF1, perClass: m.perClass, confusion: m.confusion, count: m.count, trainCount: train.count, seconds, load, backend })}\n`,
    );
  } else {
    console.log(heading);
    console.log('');
    console.log(formatMetrics(m));
  }
  if (files.length > 0) say(`wrote ${files.join(', ')}`);
}
