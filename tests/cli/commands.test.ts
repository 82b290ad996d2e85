// Every fer command reads its flags through one table (src/cli/flags.ts): the same rules and
// wording everywhere, --help generated from the table, and command functions that only do
// their work. Plus the smaller items of issue 10 that belong to no single command.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASELINE } from '../../src/cli/baseline.ts';
import { BUILD_WEB } from '../../src/cli/build-web.ts';
import { EVAL } from '../../src/cli/eval.ts';
import { helpText, type CommandSpec, type FlagTable } from '../../src/cli/flags.ts';
import { KERNELS } from '../../src/cli/kernels.ts';
import { SHIPPED_MODEL } from '../../src/cli/model-source.ts';
import { PREDICT } from '../../src/cli/predict.ts';
import { SERVE } from '../../src/cli/serve.ts';
import { SUMMARY } from '../../src/cli/summary.ts';
import { TRAIN } from '../../src/cli/train.ts';
import { decodeSafetensors } from '../../src/nn/safetensors.ts';
import { tempDir } from '../train/tiny-run.ts';
import { expectOneLineFailure, fer, lines, ROOT } from './fer-process.ts';

const TABLES: Record<string, CommandSpec<FlagTable>> = {
  train: TRAIN, eval: EVAL, predict: PREDICT, baseline: BASELINE, serve: SERVE, summary: SUMMARY, kernels: KERNELS, 'build-web': BUILD_WEB,
};

describe('every command on the flag table', () => {
  it('each table names its command, and --help shows every flag it parses', () => {
    for (const [name, cmd] of Object.entries(TABLES)) {
      expect(cmd.usage.startsWith(`fer ${name}`), name).toBe(true);
      const text = helpText(cmd);
      for (const flag of Object.keys(cmd.flags)) expect(text, `${name} --${flag}`).toMatch(new RegExp(`^  --${flag}\\b`, 'm'));
    }
  });

  it('no command function is longer than 60 lines', () => {
    const dir = join(ROOT, 'src/cli');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const src = readFileSync(join(dir, file), 'utf8').split('\n');
      src.forEach((line, i) => {
        if (!/^export async function \w+Command\(/.test(line)) return;
        const end = src.findIndex((l, j) => j > i && l === '}');
        expect(end - i + 1, `${file}: ${line}`).toBeLessThanOrEqual(60);
      });
    }
  });

  it('through the real command: negative numbers, did-you-mean, --help on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [['predict', '--min-neighbors', '-3', 'x.png'], /^--min-neighbors must be an integer >= 0, got "-3"$/],
      [['eval', '--limit', '-5', '--data', 'x.csv'], /^--limit must be a positive integer, got "-5"$/],
      [['serve', '--prot', '8080'], /^unknown option --prot \(did you mean --port\?\); fer serve --help lists the options$/],
      [['kernels', '--repeats', '3'], /^unknown option --repeats \(did you mean --repeat\?\); fer kernels --help lists the options$/],
      [['summary', '--model'], /^--model needs a value: a non-empty value$/],
      [['trian'], /^unknown command "trian" \(did you mean train\?\); fer --help lists the commands$/],
    ];
    for (const [args, message] of cases) {
      const r = await fer(args);
      expectOneLineFailure(r, message);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
    }
    const help = await fer(['predict', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(`${helpText(PREDICT)}\n`);
    expect(help.stderr).toBe('');
  }, 120_000);
});

describe('issue 10 item 8', () => {
  it('fer summary without --model shows the shipped model and says so', async () => {
    const r = await fer(['summary']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^\S+ \(the shipped model; --model seed, .* for the architectures\)$/);
    expect(r.stdout.startsWith(SHIPPED_MODEL)).toBe(true);
    // the architecture the shipped file records, whichever network is shipped
    const { metadata } = decodeSafetensors(new Uint8Array(readFileSync(SHIPPED_MODEL)), SHIPPED_MODEL);
    const name = (JSON.parse(metadata.architecture) as { name: string }).name;
    expect(r.stdout).toMatch(new RegExp(`^Model: "${name}"`, 'm'));
    expect(helpText(SUMMARY)).toMatch(/default: the shipped model/);
  }, 60_000);

  it("the shipped model's metadata names its data file, not a path on the training machine", () => {
    const { metadata } = decodeSafetensors(new Uint8Array(readFileSync(SHIPPED_MODEL)), SHIPPED_MODEL);
    expect(metadata.data).toBe('fer2013.csv.gz');
  });

  it('fer serve with a bad model file fails at start in one line, not later in the browser', async () => {
    const bad = join(tempDir('serve-bad'), 'bad.safetensors');
    writeFileSync(bad, 'not a model');
    const r = await fer(['serve', '--model', bad]);
    expectOneLineFailure(r, /bad\.safetensors: not a valid safetensors file/);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('fer serve under npx stops when npm is killed by its pid (SIGKILL, which npm cannot forward)', async () => {
    // A stand-in for npm: a parent that starts `fer serve` with npm's environment marker, prints
    // the child's pid, and is then killed outright.
    const script = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, ['src/cli/fer.mjs', 'serve'], { env: { ...process.env, npm_command: 'exec' }, stdio: ['ignore', 'pipe', 'inherit'] });
      c.stdout.once('data', () => console.log(c.pid));
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = await new Promise<number>((ok) => parent.stdout.once('data', (d: Buffer) => ok(Number(d.toString().trim()))));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const survived = alive();
    if (survived) process.kill(pid, 'SIGTERM');
    expect(survived).toBe(false);
  }, 60_000);
});
