// The command line of `npm run bench` (bench/run.ts), checked: one-line errors for bad values.
import { FerError } from '../src/backend/errors.ts';
import { defineCommand, parseFlags } from '../src/cli/flags.ts';
import { MODEL_NAMES } from '../src/nn/models.ts';
import type { ModelMode } from './result-types.ts';

export const SECTIONS = ['peak', 'kernels', 'models', 'peers'] as const;
export type Section = (typeof SECTIONS)[number];

export const BENCH = defineCommand({
  usage: 'npm run bench -- [options]',
  name: 'npm run bench --',
  about: `Measures, on each backend there is (cpu, and webgpu when an adapter opens): peak FMA GFLOP/s
and copy GB/s; the seed model's conv2d/maxpool/batchnorm/dense kernels at its layer shapes
(time, rate, fraction of peak); whole models (seed, small) in inference and training; and
TensorFlow.js (cpu, wasm, webgpu) on the same models. Prints tables, writes
<out>/results/<adapter-slug>.json and <out>/RESULTS.md (out: bench).`,
  flags: {
    batch: { kind: 'int', help: 'batch B of kernels and throughput (default 64 on a hardware GPU,\n1 on the CPU alone or a software adapter; training uses at least 2)' },
    only: { kind: 'text', arg: 'SECTION[,..]', help: 'peak, kernels, models (ours), peers (tfjs); default all' },
    quick: { kind: 'bool', help: 'CI: batch 1, the small model, a handful of kernels, short budgets;\nwrites to a temporary folder unless --out is given' },
    out: { kind: 'path', arg: 'DIR', help: 'write DIR/results/<adapter-slug>.json and DIR/RESULTS.md\n(default bench; with --quick a temporary folder)' },
    'no-write': { kind: 'bool', help: 'write nothing' },
    models: { kind: 'text', arg: 'LIST', help: 'whole models to run, in order (default small,seed; --quick small)' },
    modes: { kind: 'text', arg: 'LIST', help: 'latency, inference, train (default all three)' },
    merge: {
      kind: 'bool',
      help: "fold this run's rows into the adapter's existing JSON in the out\nfolder (replacing rows of the same kernel or model, mode, batch and\nimplementation) and re-render RESULTS.md: for re-measuring one part",
    },
    budget: { kind: 'number', arg: 'S', min: 0, open: 'min', help: 'seconds of timed calls per kernel or model row (default 0.5; --quick 0.15)' },
    'max-seconds': { kind: 'number', arg: 'S', min: 0, open: 'min', help: 'skip a kernel predicted to take longer per call (default 10; --quick 1)' },
    'model-max-seconds': { kind: 'number', arg: 'S', min: 0, open: 'min', help: 'skip a seed-model row predicted to take longer per call (default 40; --quick 5)' },
    backend: { kind: 'choice', choices: ['cpu', 'webgpu', 'both'], default: 'both', help: '(cpu when no adapter opens)' },
  },
});

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

/** The command line, checked: null after --help; errors are one line starting "bench: ". */
export function parseBenchArgs(argv: string[]): BenchOptions | null {
  let parsed;
  try {
    parsed = parseFlags(BENCH, argv);
  } catch (e) {
    throw e instanceof FerError ? new FerError(`bench: ${e.message}`) : e;
  }
  if (!parsed) return null;
  const values = parsed.values;
  const sections = values.only === undefined ? [...SECTIONS] : values.only.split(',').map((s) => s.trim());
  for (const s of sections) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new FerError(`bench: --only must name ${SECTIONS.join(', ')}, got "${s}"`);
  }
  const b = values.backend as 'cpu' | 'webgpu' | 'both';
  const quick = values.quick;
  const models = (values.models ?? (quick ? 'small' : 'small,seed')).split(',').map((m) => m.trim());
  for (const m of models) {
    if (!(MODEL_NAMES as readonly string[]).includes(m)) throw new FerError(`bench: --models must name ${MODEL_NAMES.join(', ')}, got "${m}"`);
  }
  const modes = (values.modes ?? 'latency,inference,train').split(',').map((m) => m.trim());
  for (const m of modes) {
    if (!['latency', 'inference', 'train'].includes(m)) throw new FerError(`bench: --modes must name latency, inference, train, got "${m}"`);
  }
  return {
    models,
    modes: modes as ModelMode[],
    merge: values.merge,
    batch: values.batch ?? null,
    sections: sections as Section[],
    quick,
    out: values.out ?? null,
    write: !values['no-write'],
    budget: values.budget ?? (quick ? 0.15 : 0.5),
    maxSeconds: values['max-seconds'] ?? (quick ? 1 : 10),
    modelMaxSeconds: values['model-max-seconds'] ?? (quick ? 5 : 40),
    backends: b === 'both' ? ['cpu', 'webgpu'] : [b],
  };
}
