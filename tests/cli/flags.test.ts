import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkValue, defineCommand, didYouMean, helpText, parseFlags, ruleText } from '../../src/cli/flags.ts';

const CMD = defineCommand({
  usage: 'fer demo [options] <file>',
  about: 'A demo command for the flag table.',
  footer: 'The end.',
  positionals: { min: 0, max: 1, what: 'one file' },
  flags: {
    data: { kind: 'path', help: 'where the data is', section: 'data' },
    name: { kind: 'text', arg: 'NAME', help: 'a name', default: 'x' },
    epochs: { kind: 'int', help: 'passes', default: 5, section: 'model' },
    seed: { kind: 'int', min: 0, help: 'seed' },
    port: { kind: 'int', min: 0, max: 65535, help: 'port' },
    lr: { kind: 'number', min: 0, open: 'min', help: 'learning rate' },
    momentum: { kind: 'number', min: 0, max: 1, open: 'max', help: 'momentum\nsecond line of help' },
    p: { kind: 'number', min: 0, max: 1, help: 'probability' },
    shift: { kind: 'number', help: 'any number' },
    batch: { kind: 'int', min: 2, help: 'batch size' },
    optimizer: { kind: 'choice', choices: ['adam', 'sgd'], default: 'adam', help: 'optimizer' },
    backend: { kind: 'choice', choices: ['cpu', 'webgpu', 'both'], help: 'backend' },
    'skip-bad': { kind: 'bool', help: 'skip bad rows' },
  },
});

const parse = (argv: string[]) => parseFlags(CMD, argv)!;

describe('flag table: each kind has one rule and one wording', () => {
  it('defaults, booleans, given', () => {
    const r = parse([]);
    expect(r.values).toMatchObject({ name: 'x', epochs: 5, optimizer: 'adam', 'skip-bad': false, data: undefined, seed: undefined });
    expect(r.given.size).toBe(0);
    const g = parse(['--skip-bad', '--epochs', '3', 'file.png']);
    expect(g.values['skip-bad']).toBe(true);
    expect(g.values.epochs).toBe(3);
    expect(g.positionals).toEqual(['file.png']);
    expect([...g.given].sort()).toEqual(['epochs', 'skip-bad']);
  });

  it('positive integer', () => {
    expect(parse(['--epochs', '7']).values.epochs).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'two', '', ' ', 'Infinity']) {
      expect(() => parse(['--epochs', bad])).toThrow(`--epochs must be a positive integer, got "${bad}"`);
    }
  });

  it('integer with a minimum or a range', () => {
    expect(parse(['--seed', '0']).values.seed).toBe(0);
    expect(() => parse(['--seed', '-3'])).toThrow(/^--seed must be an integer >= 0, got "-3"$/);
    expect(() => parse(['--batch', '1'])).toThrow(/^--batch must be an integer >= 2, got "1"$/);
    expect(parse(['--port', '65535']).values.port).toBe(65535);
    expect(() => parse(['--port', '65536'])).toThrow(/^--port must be an integer in \[0, 65535\], got "65536"$/);
  });

  it('numbers in an interval: positive, [0, 1), probability, unbounded', () => {
    expect(parse(['--lr', '1e-3']).values.lr).toBe(1e-3);
    expect(() => parse(['--lr', '0'])).toThrow(/^--lr must be a number > 0, got "0"$/);
    expect(() => parse(['--lr', 'NaN'])).toThrow(/^--lr must be a number > 0, got "NaN"$/);
    expect(parse(['--momentum', '0']).values.momentum).toBe(0);
    expect(() => parse(['--momentum', '1'])).toThrow(/^--momentum must be a number in \[0, 1\), got "1"$/);
    expect(parse(['--p', '1']).values.p).toBe(1);
    expect(() => parse(['--p', '1.01'])).toThrow(/^--p must be a number in \[0, 1\], got "1.01"$/);
    expect(parse(['--shift', '-2.5']).values.shift).toBe(-2.5);
    expect(() => parse(['--shift', 'abc'])).toThrow(/^--shift must be a number, got "abc"$/);
  });

  it('negative numbers reach the rule instead of "argument is ambiguous"', () => {
    expect(() => parse(['--epochs', '-1'])).toThrow(/^--epochs must be a positive integer, got "-1"$/);
    expect(() => parse(['--lr', '-1'])).toThrow(/^--lr must be a number > 0, got "-1"$/);
    expect(() => parse(['--lr=-1'])).toThrow(/^--lr must be a number > 0, got "-1"$/);
    expect(parse(['--shift', '-1']).values.shift).toBe(-1);
  });

  it('choices, paths, text', () => {
    expect(() => parse(['--optimizer', 'rmsprop'])).toThrow(/^--optimizer must be adam or sgd, got "rmsprop"$/);
    expect(() => parse(['--backend', 'tpu'])).toThrow(/^--backend must be cpu, webgpu or both, got "tpu"$/);
    expect(parse(['--data', 'a/b.csv']).values.data).toBe('a/b.csv');
    expect(() => parse(['--data='])).toThrow(/^--data must be a path, got ""$/);
    expect(() => parse(['--data', '--skip-bad'])).toThrow(/^--data needs a value: a path$/);
    expect(() => parse(['--data'])).toThrow(/^--data needs a value: a path$/);
    expect(() => parse(['--epochs'])).toThrow(/^--epochs needs a value: a positive integer$/);
    expect(() => parse(['--skip-bad=yes'])).toThrow(/^--skip-bad takes no value, got "yes"$/);
    expect(ruleText(CMD.flags.name)).toBe('a non-empty value');
    expect(checkValue('name', CMD.flags.name, 'y')).toBe('y');
  });

  it('unknown flags: did you mean, balanced quotes, one line', () => {
    expect(() => parse(['--batch-size', '32'])).toThrow(/^unknown option --batch-size \(did you mean --batch\?\); fer demo --help lists the options$/);
    expect(() => parse(['--epoch', '3'])).toThrow(/did you mean --epochs\?/);
    expect(() => parse(['--optimiser', 'sgd'])).toThrow(/did you mean --optimizer\?/);
    expect(() => parse(['--zzzzzz'])).toThrow(/^unknown option --zzzzzz; fer demo --help lists the options$/);
    expect(() => parse(['-x'])).toThrow(/^unknown option -x; fer demo --help/);
    try {
      parse(['--bogus']);
    } catch (e) {
      const m = (e as Error).message;
      expect(m).not.toContain('\n');
      expect((m.match(/'/g) ?? []).length % 2).toBe(0);
      expect((m.match(/"/g) ?? []).length % 2).toBe(0);
    }
    expect(didYouMean('min-neighbours', ['min-neighbors', 'min-size'])).toBe('min-neighbors');
    expect(didYouMean('verbose', ['data', 'epochs'])).toBeNull();
  });

  it('positionals: too many, too few, after --', () => {
    expect(() => parse(['a', 'b'])).toThrow(/^demo takes one file, got "a" "b"$/);
    expect(parse(['--', '--odd-name.png']).positionals).toEqual(['--odd-name.png']);
    const none = defineCommand({ usage: 'fer none', flags: {} });
    expect(() => parseFlags(none, ['x'])).toThrow(/^none takes no positional arguments, got "x" \(fer none --help\)$/);
    const one = defineCommand({ usage: 'fer one <image>', flags: {}, positionals: { min: 1, max: 1, what: 'one image or folder' } });
    expect(() => parseFlags(one, [])).toThrow(/^one needs one image or folder \(fer one --help\)$/);
  });
});

describe('flag table: --help', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints usage, sections, every flag with its rule-shaped label and default, and the footer', () => {
    const text = helpText(CMD);
    const lines = text.split('\n');
    expect(lines[0]).toBe('fer demo [options] <file>');
    expect(text).toContain('A demo command for the flag table.');
    expect(lines).toContain('data');
    expect(lines).toContain('model');
    for (const flag of Object.keys(CMD.flags)) expect(text).toMatch(new RegExp(`^  --${flag}\\b`, 'm'));
    expect(text).toMatch(/^ {2}--optimizer adam\|sgd +optimizer \(default adam\)$/m);
    expect(text).toMatch(/^ {2}--epochs N +passes \(default 5\)$/m);
    expect(text).toMatch(/^ {2}--name NAME +a name \(default x\)$/m);
    // A second help line is indented under the first.
    const at = lines.findIndex((l) => l.includes('momentum'));
    expect(lines[at + 1].trim()).toBe('second line of help');
    expect(lines[at + 1].indexOf('second')).toBe(lines[at].lastIndexOf('momentum'));
    expect(text).toMatch(/-h, --help +this text/);
    expect(lines.at(-1)).toBe('The end.');
  });

  it('--help and -h print it on stdout and parse returns null, wherever they are', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(parseFlags(CMD, ['--epochs', '3', '--help'])).toBeNull();
    expect(parseFlags(CMD, ['-h'])).toBeNull();
    expect(log).toHaveBeenCalledTimes(2);
    expect(log.mock.calls[0][0]).toBe(helpText(CMD));
  });
});
