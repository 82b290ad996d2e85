import { FerError } from '../backend/errors.ts';
import { didYouMean } from './flags.ts';

const HELP = `fer: facial emotion recognition on a from-scratch CNN engine (WebGPU + CPU)

usage: fer <command> [options]        (fer <command> --help for its options)

  train     train the emotion CNN (FER2013 CSV or image folders; synthetic faces without --data)
  eval      accuracy, per-class precision/recall/F1 and the confusion matrix of a model
  baseline  the classical baselines: KNN or SVM on raw pixels, reported like eval
  predict   find faces in photos and tell their emotions
  serve     the browser demo and kernel explorer on http://127.0.0.1
  summary   the layers and parameter counts of a model
  kernels   benchmark every kernel on CPU and WebGPU at the seed model's shapes
  build-web write the browser bundle (fer.js) and demo pages to a folder`;

const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  summary: async () => (await import('./summary.ts')).summaryCommand,
  train: async () => (await import('./train.ts')).trainCommand,
  predict: async () => (await import('./predict.ts')).predictCommand,
  eval: async () => (await import('./eval.ts')).evalCommand,
  baseline: async () => (await import('./baseline.ts')).baselineCommand,
  kernels: async () => (await import('./kernels.ts')).kernelsCommand,
  serve: async () => (await import('./serve.ts')).serveCommand,
  'build-web': async () => (await import('./build-web.ts')).buildWebCommand,
};

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') return void console.log(HELP);
  const load = COMMANDS[cmd];
  if (!load) {
    const guess = didYouMean(cmd, Object.keys(COMMANDS));
    throw new FerError(`unknown command "${cmd}"${guess ? ` (did you mean ${guess}?)` : ''}; fer --help lists the commands`);
  }
  await (await load())(rest);
}

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    // Bad input is one line; anything else is a bug and keeps its stack (or set FER_DEBUG=1).
    const known = e instanceof FerError || (e as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS');
    if (known && !process.env.FER_DEBUG) console.error(`fer: ${(e as Error).message}`);
    else console.error(e);
    process.exit(1);
  },
);
