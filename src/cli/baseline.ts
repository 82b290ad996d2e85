import { parseArgs } from 'node:util';
import { FerError } from '../backend/errors.ts';
import { knnPredict } from '../baseline/knn.ts';
import { pixelSamples } from '../baseline/samples.ts';
import { KERNELS, svmPredict, SVM_DEFAULTS, type SvmKernel } from '../baseline/svm-pipeline.ts';
import { sampleSplits, USAGES, type Usage } from '../data/dataset.ts';
import { EMOTIONS } from '../data/emotions.ts';
import { loadData } from '../data/load.ts';
import { emptyConfusion, formatMetrics, metricsFromConfusion } from '../train/metrics.ts';
import { writeEvaluation } from '../train/report.ts';
import { RunFolder } from '../train/run-folder.ts';
import { METRICS, type Metric } from '../ops/pairwise-distance.ts';
import { chooseBackend } from './backend-choice.ts';
import { bar, duration, ProgressLine } from './progress.ts';
import { machineLoad } from './timing.ts';

export const BASELINE_HELP = `fer baseline knn|svm --data PATH [options]

The classical baselines on raw pixels: k-nearest neighbours, or a one-vs-rest linear SVM on
standardized pixels (--kernel linear) or on an explicit feature map of the RBF or polynomial
kernel. Trains on the Training split, evaluates on --split, and reports like fer eval:
accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix, written to
baseline-<split>.txt/.json/-confusion.png in --out.

  --data PATH            FER2013 CSV (plain or .gz) or image folder
  --split NAME           PublicTest (default) or PrivateTest
  --limit N              N images of each split, drawn at random (seeded by --seed; the FER2013
                         CSV may list a split sorted by class, so not the first N)
  --backend webgpu|cpu   (default: webgpu, falling back to cpu)
  --out DIR              report folder (default: runs/baseline-<method>)
  --json                 print only one JSON object on stdout
  --skip-bad             skip bad rows/images instead of stopping

knn (pixels 0–255; the distances are computed on the backend):
  --k N                  neighbours that vote (default 1); ties go to the class of the nearest
  --metric l1|l2         Manhattan (default) or Euclidean distance

svm (Pegasos SGD on the hinge loss with L2 regularisation, seeded shuffling):
  --kernel linear|rbf|poly   (default rbf)
  --features D           random features (default ${SVM_DEFAULTS.features.rbf} for rbf, ${SVM_DEFAULTS.features.poly} for poly)
  --gamma G              rbf exp(-G·|x-y|²) (default 1/(4·2304)), poly (G·x·y + 1)^degree
                         (default 1/2304), on standardized pixels
  --degree P             poly degree (default ${SVM_DEFAULTS.degree})
  --lambda L             L2 regularisation (default ${SVM_DEFAULTS.lambda}; C = 1/(L·n))
  --epochs N             passes over the training set (default ${SVM_DEFAULTS.epochs})
  --seed S               feature-map and shuffling seed, and --limit's draw (default ${SVM_DEFAULTS.seed})`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new FerError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new FerError(`--${name} must be a positive number, got "${value}"`);
  return n;
}

export async function baselineCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      split: { type: 'string', default: 'PublicTest' },
      limit: { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      'skip-bad': { type: 'boolean' },
      k: { type: 'string' },
      metric: { type: 'string' },
      kernel: { type: 'string' },
      features: { type: 'string' },
      gamma: { type: 'string' },
      degree: { type: 'string' },
      lambda: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(BASELINE_HELP);
  const method = positionals[0];
  if (method !== 'knn' && method !== 'svm') throw new FerError(`baseline needs a method, knn or svm, got ${method === undefined ? 'none' : `"${method}"`}`);
  if (positionals.length > 1) throw new FerError(`baseline takes one method, got "${positionals.join(' ')}"`);
  if (!v.data) throw new FerError('baseline needs --data PATH (a FER2013 CSV or an image folder)');
  const split = v.split as Usage;
  if (!USAGES.includes(split) || split === 'Training') throw new FerError(`--split must be PublicTest or PrivateTest, got "${v.split}"`);
  const limit = v.limit === undefined ? undefined : positiveInt('limit', v.limit, 0);
  const knnOnly = ['k', 'metric'].filter((o) => v[o as 'k'] !== undefined);
  const svmOnly = ['kernel', 'features', 'gamma', 'degree', 'lambda', 'epochs'].filter((o) => v[o as 'k'] !== undefined);
  if (method === 'knn' && svmOnly.length > 0) throw new FerError(`--${svmOnly[0]} is an svm option, not knn's`);
  if (method === 'svm' && knnOnly.length > 0) throw new FerError(`--${knnOnly[0]} is a knn option, not svm's`);

  const k = positiveInt('k', v.k, 1);
  const metric = (v.metric ?? 'l1') as Metric;
  if (!METRICS.includes(metric)) throw new FerError(`--metric must be l1 or l2, got "${v.metric}"`);
  const kernel = (v.kernel ?? 'rbf') as SvmKernel;
  if (!KERNELS.includes(kernel)) throw new FerError(`--kernel must be linear, rbf or poly, got "${v.kernel}"`);
  const svm = {
    kernel,
    features: positiveInt('features', v.features, SVM_DEFAULTS.features[kernel]),
    gamma: positiveNumber('gamma', v.gamma, SVM_DEFAULTS.gamma[kernel]),
    degree: positiveInt('degree', v.degree, SVM_DEFAULTS.degree),
    lambda: positiveNumber('lambda', v.lambda, SVM_DEFAULTS.lambda),
    epochs: positiveInt('epochs', v.epochs, SVM_DEFAULTS.epochs),
    seed: v.seed === undefined ? SVM_DEFAULTS.seed : positiveInt('seed', v.seed, 0),
  };
  const name = method === 'knn' ? `knn-${metric}-k${k}` : `svm-${kernel}`;
  const out = v.out ?? `runs/baseline-${name}`;

  const say = (line: string) => console.error(line);
  const backend = await chooseBackend(v.backend, say);
  const progress = new ProgressLine();
  const { splits, skipped } = await loadData(v.data, {
    splits: ['Training', split],
    skipBad: Boolean(v['skip-bad']),
    onProgress: (f: number, n: number) => progress.update(`loading ${v.data} ${bar(f)} ${n} images`),
  });
  progress.done();
  if (skipped.count > 0) say(`skipped ${skipped.count} bad rows/images: ${Object.entries(skipped.reasons).map(([r, n]) => `${n}× ${r}`).join('; ')}`);
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
