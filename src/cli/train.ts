import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FerError } from '../backend/errors.ts';
import { Random } from '../backend/random.ts';
import { checkCropSide, DEFAULT_AUGMENT } from '../data/augment.ts';
import { classCounts, classWeights, sampleSplits, type Dataset } from '../data/dataset.ts';
import { EMOTIONS } from '../data/emotions.ts';
import { loadData } from '../data/load.ts';
import { syntheticFaces } from '../data/synthetic.ts';
import { createModel, defaultInputSide } from '../nn/models.ts';
import { isTestTime, TEST_TIME_MODES } from '../nn/test-time.ts';
import { RECIPES } from '../train/recipe.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Optimizer, type OptimizerConfig } from '../train/optimizer.ts';
import { RunFolder } from '../train/run-folder.ts';
import { newRunState, type RunState, type TrainSettings } from '../train/run-state.ts';
import { train } from '../train/trainer.ts';
import { chooseBackend } from './backend-choice.ts';
import { writeReport } from './report.ts';
import { bar, duration, ProgressLine } from './progress.ts';

export const TRAIN_HELP = `fer train [options]

Trains the emotion CNN. Without --data it trains the small model on a synthetic set of drawn
faces (nothing to download, a few minutes on a CPU): a pipeline check, not an emotion model.
Real accuracy needs FER2013 (see the README).

data
  --data PATH            FER2013 CSV (plain or .gz) or a folder with train/<class>/ and test/<class>/
  --limit N              use N images of each split, drawn at random (seeded by --seed)
  --skip-bad             skip bad rows/images (reported) instead of stopping at the first
  --synthetic N          size of the synthetic set when there is no --data (default 1400)
model and optimizer
  --recipe vgg           the reference recipe's settings as defaults (each flag below overrides):
                         --model vgg --crop 40 --augment --scale 0.15 --erase 0.5 (no lighting change)
                         --optimizer sgd --lr 0.05 --nesterov --weight-decay 5e-4 --schedule cosine
                         --warmup 1 --epochs 30 --batch 64 --label-smoothing 0.1 --tta ten-crop
  --model seed|small|vgg (default small)
  --crop N               the model reads N×N crops: random ones in training (with --augment), the
                         centre one for validation (default 40 for vgg, 48 = whole faces otherwise)
  --epochs N             (default 30 with --data, 5 without)
  --batch N              (default 64)
  --optimizer adam|sgd   (default adam)
  --lr X                 (default 0.001 for adam, 0.01 for sgd); the peak lr with --schedule cosine
  --momentum X           sgd momentum (default 0.9); --nesterov for Nesterov momentum
  --weight-decay X       L2 added to the gradient (sgd, as torch.optim.SGD) or decoupled (adam)
                         weight decay, on kernels only (default 0)
  --schedule plateau|cosine  plateau: lr cut on a plateau (default); cosine: --warmup epochs of
                         linear warm-up, then cosine decay to 0 over the planned epochs, per step
  --warmup N             warm-up epochs of --schedule cosine (default 1)
  --label-smoothing X    targets (1 − X)·onehot + X/7 (default 0)
  --augment              random shifts (crops), flips, small rotations, brightness/contrast
  --scale X              with --augment: random zoom by a factor in [1 − X, 1 + X] (default 0)
  --erase P              with --augment: random erasing of a rectangle with probability P (default 0)
  --tta none|flip|ten-crop  test-time averaging recorded in the model files for eval and predict
                         (default ten-crop for crop models, none otherwise)
  --class-weights        weight the loss by inverse class frequency
  --plateau-patience N   halve the lr after N epochs without a better validation loss (default 3, 0 = off)
  --plateau-factor X     (default 0.5); --min-lr X (default 1e-5)
  --early-stop N         stop after N epochs without a better validation loss (default 8, 0 = off;
                         plateau and early stopping are off by default with --schedule cosine)
  --seed N               (default 1): the same seed on the same backend gives the same loss curve
run
  --backend webgpu|wasm|cpu  (default: webgpu on a hardware GPU, else wasm, else cpu)
  --out DIR              run folder (default runs/<model>-<date>)
  --resume DIR           continue a run exactly where it stopped (add --epochs N to extend it)

Ctrl-C saves a checkpoint and stops; --resume continues from it.`;

const OPTIONS = {
  data: { type: 'string' },
  limit: { type: 'string' },
  'skip-bad': { type: 'boolean' },
  synthetic: { type: 'string' },
  model: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  nesterov: { type: 'boolean' },
  'weight-decay': { type: 'string' },
  recipe: { type: 'string' },
  crop: { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'label-smoothing': { type: 'string' },
  scale: { type: 'string' },
  erase: { type: 'string' },
  tta: { type: 'string' },
  augment: { type: 'boolean' },
  'class-weights': { type: 'boolean' },
  'plateau-patience': { type: 'string' },
  'plateau-factor': { type: 'string' },
  'min-lr': { type: 'string' },
  'early-stop': { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function num(name: string, v: string | undefined, fallback: number, check: (x: number) => boolean = () => true, want = 'a number'): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !check(x)) throw new FerError(`--${name} must be ${want}, got "${v}"`);
  return x;
}
const int = (name: string, v: string | undefined, fallback: number, min = 1) =>
  num(name, v, fallback, (x) => Number.isInteger(x) && x >= min, `an integer >= ${min}`);
const positive = (name: string, v: string | undefined, fallback: number) => num(name, v, fallback, (x) => x > 0, 'a number > 0');

function describeCounts(ds: Dataset): string {
  const c = classCounts(ds);
  return EMOTIONS.map((e, i) => `${e} ${c[i]}`).join(', ');
}

interface LoadedData {
  train: Dataset;
  val: Dataset | null;
  description: string;
}

async function loadTrainingData(settings: Pick<TrainSettings, 'dataPath' | 'limit' | 'skipBad' | 'seed' | 'syntheticCount'>): Promise<LoadedData> {
  if (settings.dataPath === null) {
    const syntheticCount = settings.syntheticCount;
    const all = syntheticFaces({ count: syntheticCount, seed: settings.seed });
    const val = syntheticFaces({ count: Math.max(70, Math.round(syntheticCount / 5)), seed: settings.seed + 1_000_003 });
    console.error(`data: ${all.count} synthetic training faces, ${val.count} for validation (drawn, not FER2013: a pipeline check only)`);
    return { train: all, val, description: `synthetic (${syntheticCount} drawn faces, seed ${settings.seed})` };
  }
  const progress = new ProgressLine();
  const t0 = performance.now();
  // --limit samples after a full load (seconds for FER2013): the first N rows may be one class.
  const { splits: all, skipped } = await loadData(settings.dataPath, {
    skipBad: settings.skipBad,
    onProgress: (f: number, rows: number) => progress.update(`loading ${settings.dataPath} ${bar(f)} ${(100 * f).toFixed(0)}% ${rows} images`),
  });
  progress.done(`loaded ${settings.dataPath} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (skipped.count > 0) {
    const reasons = Object.entries(skipped.reasons).map(([r, n]) => `${n}× ${r}`).join('; ');
    console.error(`skipped ${skipped.count} bad rows/images: ${reasons}`);
    for (const ex of skipped.examples) console.error(`  e.g. ${ex}`);
  }
  const splits = sampleSplits(all, settings.limit, settings.seed);
  const trainSet = splits.Training;
  if (!trainSet || trainSet.count === 0) throw new FerError(`${settings.dataPath}: no Training images found`);
  const val = splits.PublicTest ?? null;
  console.error(`data: ${trainSet.count} training images (${describeCounts(trainSet)})`);
  if (val) console.error(`      ${val.count} PublicTest images for validation`);
  else console.error('      no PublicTest split: the schedule and reports use the training loss');
  return { train: trainSet, val, description: settings.dataPath };
}

export async function trainCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false });
  if (v.help) return void console.log(TRAIN_HELP);

  const backend = await chooseBackend(v.backend);
  let run: RunFolder;
  let model: Sequential;
  let optimizer: Optimizer;
  let state: RunState;
  let data: LoadedData;

  if (v.resume) {
    run = new RunFolder(v.resume);
    ({ model, optimizer, state } = run.loadCheckpoint(backend));
    const s = state.settings;
    if (v.epochs !== undefined) s.epochs = int('epochs', v.epochs, s.epochs);
    if (v.data !== undefined) s.dataPath = v.data;
    if (state.finished && (v.epochs === undefined || state.epoch >= s.epochs)) {
      console.error(`${run.dir}: already finished (${state.stopReason}); add --epochs N (more than ${state.epoch}) to continue`);
      return;
    }
    // Asked for more epochs after early stopping: give the new epochs a fresh patience.
    if (state.finished) state.schedule.sinceBest = 0;
    state.finished = false;
    state.stopReason = null;
    if (s.backend !== backend) console.error(`note: this run trained on ${s.backend} and resumes on ${backend}: the loss curve will differ in rounding`);
    console.error(`resuming ${run.dir} at epoch ${state.epoch + 1}, batch ${state.batch} (step ${state.step})`);
    data = await loadTrainingData(s);
  } else {
    if (v.recipe !== undefined && !(v.recipe in RECIPES)) throw new FerError(`--recipe must be ${Object.keys(RECIPES).join(' or ')}, got "${v.recipe}"`);
    const recipe = v.recipe === undefined ? null : RECIPES[v.recipe];
    const kind = v.optimizer ?? recipe?.optimizer ?? 'adam';
    if (kind !== 'adam' && kind !== 'sgd') throw new FerError(`--optimizer must be adam or sgd, got "${kind}"`);
    const momentum = num('momentum', v.momentum, recipe?.momentum ?? 0.9, (x) => x >= 0 && x < 1, 'in [0, 1)');
    const nesterov = Boolean(v.nesterov) || (kind === 'sgd' && momentum > 0 && Boolean(recipe?.nesterov));
    if (nesterov && (kind !== 'sgd' || momentum === 0)) throw new FerError('--nesterov needs --optimizer sgd with --momentum > 0');
    const optimizerConfig: OptimizerConfig = {
      kind,
      lr: positive('lr', v.lr, recipe?.lr ?? (kind === 'adam' ? 1e-3 : 1e-2)),
      momentum,
      nesterov,
      weightDecay: num('weight-decay', v['weight-decay'], recipe?.weightDecay ?? 0, (x) => x >= 0, 'a number >= 0'),
    };
    const schedule = v.schedule ?? (recipe ? 'cosine' : 'plateau');
    if (schedule !== 'plateau' && schedule !== 'cosine') throw new FerError(`--schedule must be plateau or cosine, got "${schedule}"`);
    const cosine = schedule === 'cosine';
    if (!cosine && v.warmup !== undefined) throw new FerError('--warmup needs --schedule cosine');
    const plateauPatience = int('plateau-patience', v['plateau-patience'], cosine ? 0 : 3, 0);
    if (cosine && plateauPatience > 0) throw new FerError('--plateau-patience cannot be combined with --schedule cosine (the schedule sets every step\'s lr)');
    const earlyStop = int('early-stop', v['early-stop'], cosine ? 0 : 8, 0);
    const modelName = v.model ?? recipe?.model ?? 'small';
    const crop = int('crop', v.crop, recipe?.crop ?? defaultInputSide(modelName), 8);
    checkCropSide(crop, '--crop');
    const augmenting = Boolean(v.augment) || recipe !== null;
    if (!augmenting && (v.scale !== undefined || v.erase !== undefined)) throw new FerError('--scale and --erase need --augment (or --recipe)');
    const base = recipe?.augment ?? DEFAULT_AUGMENT;
    const tta = v.tta ?? recipe?.testTime ?? (crop < 48 ? 'ten-crop' : 'none');
    if (!isTestTime(tta)) throw new FerError(`--tta must be ${TEST_TIME_MODES.join(', ')}, got "${tta}"`);
    if (tta === 'ten-crop' && crop === 48) throw new FerError('--tta ten-crop needs --crop below 48 (a model of whole faces has no crops to average)');
    const settings: TrainSettings = {
      model: modelName,
      data: '',
      dataPath: v.data ?? null,
      syntheticCount: int('synthetic', v.synthetic, 1400, 14),
      limit: v.limit === undefined ? null : int('limit', v.limit, 0),
      skipBad: Boolean(v['skip-bad']),
      epochs: int('epochs', v.epochs, recipe?.epochs ?? (v.data ? 30 : 5)),
      batchSize: int('batch', v.batch, recipe?.batch ?? 64, 2),
      optimizer: optimizerConfig,
      // With crops, the shift is the random crop: every crop position of the 48×48 face.
      augment: augmenting
        ? {
            ...base,
            shift: crop < 48 ? (48 - crop) / 2 : base.shift,
            scale: num('scale', v.scale, base.scale ?? 0, (x) => x >= 0 && x <= 0.5, 'in [0, 0.5]'),
            erase: num('erase', v.erase, base.erase ?? 0, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
          }
        : null,
      lrSchedule: cosine ? { kind: 'cosine', warmupEpochs: int('warmup', v.warmup, recipe?.warmupEpochs ?? 1, 0), peakLr: optimizerConfig.lr } : null,
      labelSmoothing: num('label-smoothing', v['label-smoothing'], recipe?.labelSmoothing ?? 0, (x) => x >= 0 && x < 1, 'in [0, 1)'),
      crop,
      testTime: tta,
      classWeights: null,
      seed: int('seed', v.seed, 1, 0),
      plateau: plateauPatience > 0
        ? { patience: plateauPatience, factor: num('plateau-factor', v['plateau-factor'], 0.5, (x) => x > 0 && x < 1, 'in (0, 1)'), minLr: num('min-lr', v['min-lr'], 1e-5, (x) => x >= 0, '>= 0') }
        : null,
      earlyStop: earlyStop > 0 ? earlyStop : null,
      backend,
    };
    model = createModel(settings.model, crop);
    const out = v.out ?? join('runs', `${settings.model}-${new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-')}`);
    if (existsSync(join(out, 'checkpoint.safetensors'))) {
      throw new FerError(`${out} already holds a run: continue it with --resume ${out}, or choose another --out`);
    }
    data = await loadTrainingData(settings);
    settings.data = data.description;
    if (v['class-weights']) {
      settings.classWeights = Array.from(classWeights(data.train));
      console.error(`class weights: ${EMOTIONS.map((e, i) => `${e} ${settings.classWeights![i].toFixed(2)}`).join(', ')}`);
    }
    run = RunFolder.create(out);
    model.build(new Random(settings.seed), backend);
    optimizer = new Optimizer(settings.optimizer);
    state = newRunState(settings);
    const sum = model.summary();
    console.error(`model: ${settings.model}, ${sum.total.toLocaleString('en-US')} parameters, ${(sum.macs / 1e6).toFixed(1)} M multiply-adds per image${crop < 48 ? ` (${crop}×${crop} crops)` : ''}`);
    const o = settings.optimizer;
    console.error(
      `recipe: ${o.kind}${o.nesterov ? ' nesterov' : ''} lr ${o.lr}${o.kind === 'sgd' ? ` momentum ${o.momentum}` : ''} weight decay ${o.weightDecay}, ` +
        `${settings.lrSchedule ? `cosine after ${settings.lrSchedule.warmupEpochs} warm-up epoch(s)` : 'plateau'} over ${settings.epochs} epochs, batch ${settings.batchSize}, ` +
        `label smoothing ${settings.labelSmoothing}, augment ${settings.augment ? JSON.stringify(settings.augment) : 'off'}, test-time ${settings.testTime}`,
    );
    console.error(`run folder: ${run.dir}`);
  }

  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    console.error('\nCtrl-C: saving a checkpoint after this step (press again to quit without saving)');
  };
  process.on('SIGINT', onSigint);
  const progress = new ProgressLine();
  const pct = (x: number | null) => (x === null ? '  n/a' : `${(100 * x).toFixed(1)}%`);
  try {
    const result = await train(run, model, optimizer, state, { train: data.train, val: data.val }, {
      interrupted: () => stopRequested,
      onStep: (s) =>
        progress.update(
          `epoch ${s.epoch + 1}/${s.epochs} ${bar(s.batch / s.batches, 16)} ${s.batch}/${s.batches} loss ${s.loss.toFixed(4)} acc ${pct(s.accuracy)} ${s.imagesPerSecond.toFixed(0)} img/s ETA ${duration(s.etaSeconds)}`,
        ),
      onEvaluating: (done, total) => progress.update(`evaluating ${bar(done / total, 16)} ${done}/${total}`),
      onEpoch: (r, d) =>
        progress.done(
          `epoch ${r.epoch}/${state.settings.epochs}: loss ${r.trainLoss.toFixed(4)} acc ${pct(r.trainAccuracy)} | val loss ${r.valLoss?.toFixed(4) ?? 'n/a'} acc ${pct(r.valAccuracy)} | lr ${r.lr.toExponential(1)} | ${r.seconds.toFixed(0)} s, ${r.imagesPerSecond.toFixed(0)} img/s${d.improved ? ' | best' : ''}${d.lrReduced ? ` | lr → ${state.schedule.lr.toExponential(1)}` : ''}`,
        ),
    });
    progress.done();
    if (result.outcome === 'diverged') throw new FerError(result.message);
    console.error(result.message);
    if (result.outcome === 'interrupted') {
      console.error(`resume with: fer train --resume ${run.dir}`);
      process.exitCode = 130;
      return;
    }
    if (data.val) {
      const files = await writeReport(run, data.val, state, backend);
      console.error(`report: ${files.join(', ')}`);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}
