import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FerError } from '../backend/errors.ts';
import { Random } from '../backend/random.ts';
import type { BackendName } from '../backend/tensor.ts';
import { checkCropSide, DEFAULT_AUGMENT } from '../data/augment.ts';
import { classCounts, classWeights, sampleSplits, type Dataset } from '../data/dataset.ts';
import { EMOTIONS } from '../data/emotions.ts';
import { loadData } from '../data/load.ts';
import { describeSkipped } from '../data/skipped.ts';
import { syntheticFaces } from '../data/synthetic.ts';
import { createModel, defaultInputSide } from '../nn/models.ts';
import { TEST_TIME_MODES, type TestTime } from '../nn/test-time.ts';
import { RECIPES } from '../train/recipe.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Optimizer, type OptimizerConfig } from '../train/optimizer.ts';
import { RunFolder } from '../train/run-folder.ts';
import { newRunState, type RunState, type TrainSettings } from '../train/run-state.ts';
import { train } from '../train/trainer.ts';
import { BACKEND_FLAG, chooseBackend } from './backend-choice.ts';
import { notShippedFolder } from './model-source.ts';
import { defineCommand, parseFlags, plural, type FlagValues } from './flags.ts';
import { writeReport } from './report.ts';
import { bar, duration, ProgressLine } from './progress.ts';

export const TRAIN = defineCommand({
  usage: 'fer train [options]',
  about: `Trains the emotion CNN. Without --data it trains the small model on a synthetic set of drawn
faces (nothing to download; about 2 minutes of CPU time on 2 cores, longer on a busy machine):
a pipeline check, not an emotion model. Real accuracy needs FER2013 (see the README).`,
  footer: 'Ctrl-C saves a checkpoint and stops; --resume continues from it.',
  flags: {
    data: { kind: 'path', section: 'data', help: 'FER2013 CSV (plain or .gz) or a folder with train/<class>/ and test/<class>/' },
    limit: { kind: 'int', help: 'use N images of each split, drawn at random (seeded by --seed)' },
    'skip-bad': { kind: 'bool', help: 'skip bad rows/images (reported) instead of stopping at the first' },
    synthetic: { kind: 'int', min: 14, default: 1400, help: 'size of the synthetic set when there is no --data' },
    recipe: {
      kind: 'choice',
      choices: Object.keys(RECIPES),
      section: 'model and optimizer',
      help: `the reference recipe's settings as defaults (each flag below overrides):
--model vgg --crop 40 --augment --scale 0.15 --erase 0.5 (no lighting change)
--optimizer sgd --lr 0.05 --nesterov --weight-decay 5e-4 --schedule cosine
--warmup 1 --epochs 30 --batch 64 --label-smoothing 0.1 --tta ten-crop`,
    },
    model: { kind: 'text', arg: 'seed|small|vgg', help: '(default small)' },
    crop: { kind: 'int', min: 8, help: 'the model reads N×N crops: random ones in training (with --augment), the\ncentre one for validation (default 40 for vgg, 48 = whole faces otherwise)' },
    epochs: { kind: 'int', help: '(default 30 with --data, 5 without)' },
    batch: { kind: 'int', min: 2, help: '(default 64)' },
    optimizer: { kind: 'choice', choices: ['adam', 'sgd'], help: '(default adam)' },
    lr: { kind: 'number', min: 0, open: 'min', help: '(default 0.001 for adam, 0.01 for sgd); the peak lr with --schedule cosine' },
    momentum: { kind: 'number', min: 0, max: 1, open: 'max', help: 'sgd momentum (default 0.9)' },
    nesterov: { kind: 'bool', help: 'Nesterov momentum (sgd)' },
    'weight-decay': { kind: 'number', min: 0, help: 'L2 added to the gradient (sgd, as torch.optim.SGD) or decoupled (adam)\nweight decay, on kernels only (default 0)' },
    schedule: { kind: 'choice', choices: ['plateau', 'cosine'], help: 'plateau: lr cut on a plateau (default); cosine: --warmup epochs of\nlinear warm-up, then cosine decay to 0 over the planned epochs, per step' },
    warmup: { kind: 'int', min: 0, help: 'warm-up epochs of --schedule cosine (default 1)' },
    'label-smoothing': { kind: 'number', min: 0, max: 1, open: 'max', help: 'targets (1 − X)·onehot + X/7 (default 0)' },
    augment: { kind: 'bool', help: 'random shifts (crops), flips, small rotations, brightness/contrast' },
    scale: { kind: 'number', min: 0, max: 0.5, help: 'with --augment: random zoom by a factor in [1 − X, 1 + X] (default 0)' },
    erase: { kind: 'number', arg: 'P', min: 0, max: 1, help: 'with --augment: random erasing of a rectangle with probability P (default 0)' },
    tta: { kind: 'choice', choices: TEST_TIME_MODES, help: 'test-time averaging recorded in the model files for eval and predict\n(default ten-crop for crop models, none otherwise)' },
    'class-weights': { kind: 'bool', help: 'weight the loss by inverse class frequency' },
    'plateau-patience': { kind: 'int', min: 0, help: 'halve the lr after N epochs without a better validation loss (default 3, 0 = off)' },
    'plateau-factor': { kind: 'number', min: 0, max: 1, open: 'both', default: 0.5, help: 'the lr factor on a plateau' },
    'min-lr': { kind: 'number', min: 0, default: 1e-5, help: 'the lr the plateau cuts stop at' },
    'early-stop': { kind: 'int', min: 0, help: 'stop after N epochs without a better validation loss (default 8, 0 = off;\nplateau and early stopping are off by default with --schedule cosine)' },
    seed: { kind: 'int', min: 0, default: 1, help: 'the same seed on the same backend gives the same loss curve' },
    backend: { ...BACKEND_FLAG, section: 'run' },
    out: { kind: 'path', arg: 'DIR', help: 'run folder (default runs/<model>-<date>)' },
    resume: { kind: 'path', arg: 'DIR', help: 'continue a run exactly where it stopped (add --epochs N to extend it)' },
  },
});
type TrainFlags = FlagValues<typeof TRAIN.flags>;

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
  for (const line of describeSkipped(skipped)) console.error(line);
  const splits = sampleSplits(all, settings.limit, settings.seed);
  const trainSet = splits.Training;
  if (!trainSet || trainSet.count === 0) throw new FerError(`${settings.dataPath}: no Training images found`);
  const val = splits.PublicTest ?? null;
  console.error(`data: ${trainSet.count} training images (${describeCounts(trainSet)})`);
  if (val) console.error(`      ${val.count} PublicTest images for validation`);
  else console.error('      no PublicTest split: the schedule and reports use the training loss');
  return { train: trainSet, val, description: settings.dataPath };
}

/** A new run's settings from the flags, with a --recipe's values as the defaults. */
function newRunSettings(v: TrainFlags, backend: BackendName): TrainSettings {
  const recipe = v.recipe === undefined ? null : RECIPES[v.recipe];
  const kind = (v.optimizer ?? recipe?.optimizer ?? 'adam') as OptimizerConfig['kind'];
  const momentum = v.momentum ?? recipe?.momentum ?? 0.9;
  const nesterov = v.nesterov || (kind === 'sgd' && momentum > 0 && Boolean(recipe?.nesterov));
  if (nesterov && (kind !== 'sgd' || momentum === 0)) throw new FerError('--nesterov needs --optimizer sgd with --momentum > 0');
  const lr = v.lr ?? recipe?.lr ?? (kind === 'adam' ? 1e-3 : 1e-2);
  const optimizer: OptimizerConfig = { kind, lr, momentum, nesterov, weightDecay: v['weight-decay'] ?? recipe?.weightDecay ?? 0 };
  const cosine = (v.schedule ?? (recipe ? 'cosine' : 'plateau')) === 'cosine';
  if (!cosine && v.warmup !== undefined) throw new FerError('--warmup needs --schedule cosine');
  const plateauPatience = v['plateau-patience'] ?? (cosine ? 0 : 3);
  if (cosine && plateauPatience > 0) throw new FerError('--plateau-patience cannot be combined with --schedule cosine (the schedule sets every step\'s lr)');
  const earlyStop = v['early-stop'] ?? (cosine ? 0 : 8);
  const model = v.model ?? recipe?.model ?? 'small';
  const crop = v.crop ?? recipe?.crop ?? defaultInputSide(model);
  checkCropSide(crop, '--crop');
  const augmenting = v.augment || recipe !== null;
  if (!augmenting && (v.scale !== undefined || v.erase !== undefined)) throw new FerError('--scale and --erase need --augment (or --recipe)');
  const base = recipe?.augment ?? DEFAULT_AUGMENT;
  const testTime = (v.tta ?? recipe?.testTime ?? (crop < 48 ? 'ten-crop' : 'none')) as TestTime;
  if (testTime === 'ten-crop' && crop === 48) throw new FerError('--tta ten-crop needs --crop below 48 (a model of whole faces has no crops to average)');
  return {
    model,
    data: '',
    dataPath: v.data ?? null,
    syntheticCount: v.synthetic,
    limit: v.limit ?? null,
    skipBad: v['skip-bad'],
    epochs: v.epochs ?? recipe?.epochs ?? (v.data ? 30 : 5),
    batchSize: v.batch ?? recipe?.batch ?? 64,
    optimizer,
    // With crops, the shift is the random crop: every crop position of the 48×48 face.
    augment: augmenting ? { ...base, shift: crop < 48 ? (48 - crop) / 2 : base.shift, scale: v.scale ?? base.scale ?? 0, erase: v.erase ?? base.erase ?? 0 } : null,
    lrSchedule: cosine ? { kind: 'cosine', warmupEpochs: v.warmup ?? recipe?.warmupEpochs ?? 1, peakLr: lr } : null,
    labelSmoothing: v['label-smoothing'] ?? recipe?.labelSmoothing ?? 0,
    crop,
    testTime,
    classWeights: null,
    seed: v.seed,
    plateau: plateauPatience > 0 ? { patience: plateauPatience, factor: v['plateau-factor'], minLr: v['min-lr'] } : null,
    earlyStop: earlyStop > 0 ? earlyStop : null,
    backend,
  };
}

interface Started {
  run: RunFolder;
  model: Sequential;
  optimizer: Optimizer;
  state: RunState;
  data: LoadedData;
}

/** --resume: the checkpoint's run, extended by --epochs; null when it is already finished. */
async function resumeRun(v: TrainFlags, backend: BackendName): Promise<Started | null> {
  const run = new RunFolder(v.resume!);
  const { model, optimizer, state } = run.loadCheckpoint(backend);
  const s = state.settings;
  if (v.epochs !== undefined) s.epochs = v.epochs;
  if (v.data !== undefined) s.dataPath = v.data;
  if (state.finished && (v.epochs === undefined || state.epoch >= s.epochs)) {
    console.error(`${run.dir}: already finished (${state.stopReason}); add --epochs N (more than ${state.epoch}) to continue`);
    return null;
  }
  // Asked for more epochs after early stopping: give the new epochs a fresh patience.
  if (state.finished) state.schedule.sinceBest = 0;
  state.finished = false;
  state.stopReason = null;
  if (s.backend !== backend) console.error(`note: this run trained on ${s.backend} and resumes on ${backend}: the loss curve will differ in rounding`);
  console.error(`resuming ${run.dir} at epoch ${state.epoch + 1}, batch ${state.batch} (step ${state.step})`);
  return { run, model, optimizer, state, data: await loadTrainingData(s) };
}

/** A new run never writes over another: its folder must not hold a checkpoint. */
function refuseHeldFolder(out: string): void {
  if (existsSync(join(out, 'checkpoint.safetensors'))) {
    throw new FerError(`${out} already holds a run: continue it with --resume ${out}, or choose another --out`);
  }
}

async function startRun(v: TrainFlags, backend: BackendName): Promise<Started> {
  const settings = newRunSettings(v, backend);
  const model = createModel(settings.model, settings.crop);
  const out = notShippedFolder(v.out ?? join('runs', `${settings.model}-${new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-')}`), '--out');
  refuseHeldFolder(out);
  const data = await loadTrainingData(settings);
  settings.data = data.description;
  if (v['class-weights']) {
    settings.classWeights = Array.from(classWeights(data.train));
    console.error(`class weights: ${EMOTIONS.map((e, i) => `${e} ${settings.classWeights![i].toFixed(2)}`).join(', ')}`);
  }
  const run = RunFolder.create(out);
  model.build(new Random(settings.seed), backend);
  const sum = model.summary();
  const crop = settings.crop ?? 48;
  console.error(`model: ${settings.model}, ${sum.total.toLocaleString('en-US')} parameters, ${(sum.macs / 1e6).toFixed(1)} M multiply-adds per image${crop < 48 ? ` (${crop}×${crop} crops)` : ''}`);
  const o = settings.optimizer;
  console.error(
    `recipe: ${o.kind}${o.nesterov ? ' nesterov' : ''} lr ${o.lr}${o.kind === 'sgd' ? ` momentum ${o.momentum}` : ''} weight decay ${o.weightDecay}, ` +
      `${settings.lrSchedule ? `cosine after ${settings.lrSchedule.warmupEpochs} warm-up epoch(s)` : 'plateau'} over ${plural(settings.epochs, 'epoch')}, batch ${settings.batchSize}, ` +
      `label smoothing ${settings.labelSmoothing}, augment ${settings.augment ? JSON.stringify(settings.augment) : 'off'}, test-time ${settings.testTime}`,
  );
  console.error(`run folder: ${run.dir}`);
  return { run, model, optimizer: new Optimizer(settings.optimizer), state: newRunState(settings), data };
}

/** The epochs, with the live line; Ctrl-C saves a checkpoint after the current step. */
async function runTraining({ run, model, optimizer, state, data }: Started, backend: BackendName): Promise<void> {
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
  } catch (e) {
    // The memory is exhausted deep in an op, which knows sizes but not the batch: name it here.
    if (e instanceof FerError && e.message.startsWith('wasm: out of WebAssembly memory')) {
      throw new FerError(`${e.message.replace(/; use a smaller --batch$/, '')}, training at --batch ${state.settings.batchSize}: use a smaller --batch`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export async function trainCommand(argv: string[]): Promise<void> {
  const args = parseFlags(TRAIN, argv);
  if (!args) return;
  // A new run's settings, model name and folder (or the resumed run's checkpoint) are checked
  // before the backend is opened (which prints the backend it chose), so a bad flag is the one
  // line on stderr.
  if (!args.values.resume) {
    const s = newRunSettings(args.values, 'cpu');
    createModel(s.model, s.crop);
    if (args.values.out) refuseHeldFolder(notShippedFolder(args.values.out, '--out'));
  } else {
    const run = new RunFolder(args.values.resume);
    if (!run.hasCheckpoint()) throw new FerError(`${run.dir}: no checkpoint.safetensors to resume from`);
  }
  const backend = await chooseBackend(args.values.backend);
  const started = args.values.resume ? await resumeRun(args.values, backend) : await startRun(args.values, backend);
  if (started) await runTraining(started, backend);
}
