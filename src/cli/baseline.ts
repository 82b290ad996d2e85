import { FerError } from '../backend/errors.ts';
import { knnPredict } from '../baseline/knn.ts';
import { pixelSamples } from '../baseline/samples.ts';
import { KERNELS, svmPredict, SVM_DEFAULTS, type SvmKernel } from '../baseline/svm-pipeline.ts';
import { sampleSplits, type Usage } from '../data/dataset.ts';
import { describeSkipped } from '../data/skipped.ts';
import { EMOTIONS } from '../data/emotions.ts';
import { loadData } from '../data/load.ts';
import { emptyConfusion, formatMetrics, metricsFromConfusion } from '../train/metrics.ts';
import { writeEvaluation } from '../train/report.ts';
import { RunFolder } from '../train/run-folder.ts';
import { METRICS, type Metric } from '../ops/pairwise-distance.ts';
import { chooseBackend } from './backend-choice.ts';
import { defineCommand, parseFlags } from './flags.ts';
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
    backend: { kind: 'choice', choices: ['webgpu', 'wasm', 'cpu'], help: '(default: webgpu on a hardware GPU, else wasm, else cpu)' },
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

export async function baselineCommand(argv: string[]): Promise<void> {
  const args = parseFlags(BASELINE, argv);
  if (!args) return;
  const { values: v, positionals, given } = args;
  const method = positionals[0];
  if (method !== 'knn' && method !== 'svm') throw new FerError(`baseline needs a method, knn or svm, got ${method === undefined ? 'none' : `"${method}"`}`);
  if (!v.data) throw new FerError('baseline needs --data PATH (a FER2013 CSV or an image folder)');
  const split = v.split as Usage;
  const limit = v.limit;
  const knnOnly = ['k', 'metric'].filter((o) => given.has(o as 'k'));
  const svmOnly = ['kernel', 'features', 'gamma', 'degree', 'lambda', 'epochs'].filter((o) => given.has(o as 'k'));
  if (method === 'knn' && svmOnly.length > 0) throw new FerError(`--${svmOnly[0]} is an svm option, not knn's`);
  if (method === 'svm' && knnOnly.length > 0) throw new FerError(`--${knnOnly[0]} is a knn option, not svm's`);

  const k = v.k;
  const metric = v.metric as Metric;
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
  const name = method === 'knn' ? `knn-${metric}-k${k}` : `svm-${kernel}`;
  const out = v.out ?? `runs/baseline-${name}`;

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const progress = new ProgressLine();
  const { splits, skipped } = await loadData(v.data, {
    splits: ['Training', split],
    skipBad: v['skip-bad'],
    onProgress: (f: number, n: number) => progress.update(`loading ${v.data} ${bar(f)} ${n} images`),
  });
  progress.done();
  for (const line of describeSkipped(skipped)) say(line);
  const sampled = sampleSplits(splits, limit, svm.seed);
  const trainDs = sampled.Training;
  const testDs = sampled[split];
  if (!trainDs || trainDs.count === 0) throw new FerError(`${v.data}: no Training images to learn from`);
  if (!testDs || testDs.count === 0) throw new FerError(`${v.data}: no ${split} images${split === 'PrivateTest' ? ' (this copy of FER2013 withholds PrivateTest)' : ''}`);
  const train = pixelSamples(trainDs);
  const test = pixelSamples(testDs);

  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let predictions: Uint8Array;
  let described: string;
  if (method === 'knn') {
    described = `KNN k=${k} ${metric}`;
    predictions = await knnPredict(train, test, {
      k,
      metric,
      backend,
      classes: EMOTIONS.length,
      onProgress: (done, total) =>
        progress.update(`knn ${bar(done / total)} ${done}/${total} test images, ${duration(elapsed())} elapsed, ${duration((elapsed() * (total - done)) / done)} left`),
    });
  } else {
    described = `SVM ${kernel}${kernel === 'linear' ? '' : ` (${svm.features} random features, gamma ${svm.gamma.toPrecision(3)}${kernel === 'poly' ? `, degree ${svm.degree}` : ''})`}, lambda ${svm.lambda}, ${svm.epochs} epochs, seed ${svm.seed}`;
    predictions = await svmPredict(train, test, { ...svm, backend, classes: EMOTIONS.length, onStatus: (line) => progress.update(line) });
  }
  progress.done();
  const seconds = elapsed();
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
    const options = method === 'knn' ? { k, metric } : svm;
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
