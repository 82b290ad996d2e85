// The command line of `npm run bench` (bench/run.ts), checked: one-line errors for bad values.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FerError } from '../src/backend/errors.ts';
import { MODEL_NAMES } from '../src/nn/models.ts';
import type { ModelMode } from './result-types.ts';

export const SECTIONS = ['peak', 'kernels', 'models', 'peers'] as const;
export type Section = (typeof SECTIONS)[number];

export const BENCH_HELP = `npm run bench -- [options]

Measures, on each backend there is (cpu, and webgpu when an adapter opens): peak FMA GFLOP/s
and copy GB/s; the seed model's conv2d/maxpool/batchnorm/dense kernels at its layer shapes
(time, rate, fraction of peak); whole models (seed, small) in inference and training; and
TensorFlow.js (cpu, wasm, webgpu) on the same models. Prints tables, writes
<out>/results/<adapter-slug>.json and <out>/RESULTS.md (out: bench).

  --batch N             batch B of kernels and throughput (default 64 on a hardware GPU,
                        1 on the CPU alone or a software adapter; training uses at least 2)
  --only SECTION[,..]   peak, kernels, models (ours), peers (tfjs); default all
  --quick               CI: batch 1, the small model, a handful of kernels, short budgets;
                        writes to a temporary folder unless --out is given
  --out DIR             write DIR/results/<adapter-slug>.json and DIR/RESULTS.md
                        (default bench; with --quick a temporary folder)
  --no-write            write nothing
  --models LIST         whole models to run, in order (default small,seed; --quick small)
  --modes LIST          latency, inference, train (default all three)
  --merge               fold this run's rows into the adapter's existing JSON in the out
                        folder (replacing rows of the same kernel or model, mode, batch and
                        implementation) and re-render RESULTS.md: for re-measuring one part
  --budget S            seconds of timed calls per kernel or model row (default 0.5)
  --max-seconds S       skip a kernel predicted to take longer per call (default 10)
  --model-max-seconds S skip a seed-model row predicted to take longer per call (default 40)
  --backend cpu|webgpu|both  (default both; cpu when no adapter opens)`;

export interface BenchOptions {
  batch: number | null;
  sections: Section[];
  quick: boolean;
  out: string | null;
  write: boolean;
  budget: number;
  maxSeconds: number;
  modelMaxSeconds: number;
  backends: ('cpu' | 'webgpu')[];
  models: string[];
  modes: ModelMode[];
  merge: boolean;
}

function positive(flag: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new FerError(`bench: --${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${v}"`);
  }
  return n;
}

/** parseArgs with its errors (unknown option, missing value) as one-line FerErrors. */
function parseArgsOrFail<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new FerError(`bench: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgsOrFail({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      batch: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      budget: { type: 'string' },
      'max-seconds': { type: 'string' },
      'model-max-seconds': { type: 'string' },
      backend: { type: 'string', default: 'both' },
      models: { type: 'string' },
      modes: { type: 'string', default: 'latency,inference,train' },
      merge: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const sections = values.only === undefined ? [...SECTIONS] : values.only.split(',').map((s) => s.trim());
  for (const s of sections) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new FerError(`bench: --only must name ${SECTIONS.join(', ')}, got "${s}"`);
  }
  const b = values.backend!;
  if (b !== 'cpu' && b !== 'webgpu' && b !== 'both') throw new FerError(`bench: --backend must be cpu, webgpu or both, got "${b}"`);
  const quick = values.quick!;
  const models = (values.models ?? (quick ? 'small' : 'small,seed')).split(',').map((m) => m.trim());
  for (const m of models) {
    if (!(MODEL_NAMES as readonly string[]).includes(m)) throw new FerError(`bench: --models must name ${MODEL_NAMES.join(', ')}, got "${m}"`);
  }
  const modes = values.modes!.split(',').map((m) => m.trim());
  for (const m of modes) {
    if (!['latency', 'inference', 'train'].includes(m)) throw new FerError(`bench: --modes must name latency, inference, train, got "${m}"`);
  }
  return {
    models,
    modes: modes as ModelMode[],
    merge: values.merge!,
    batch: values.batch === undefined ? null : positive('batch', values.batch, true),
    sections: sections as Section[],
    quick,
    out: values.out ?? null,
    write: !values['no-write'],
    budget: values.budget === undefined ? (quick ? 0.15 : 0.5) : positive('budget', values.budget, false),
    maxSeconds: values['max-seconds'] === undefined ? (quick ? 1 : 10) : positive('max-seconds', values['max-seconds'], false),
    modelMaxSeconds: values['model-max-seconds'] === undefined ? (quick ? 5 : 40) : positive('model-max-seconds', values['model-max-seconds'], false),
    backends: b === 'both' ? ['cpu', 'webgpu'] : [b],
  };
}
