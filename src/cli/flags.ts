import { FerError } from '../backend/errors.ts';

/**
 * One declarative flag table per command: it parses the command line, checks each value with
 * the one rule of its kind (same wording in every command), and prints `--help`.
 *
 * We parse ourselves rather than with node:util parseArgs because parseArgs refuses a value
 * that starts with a dash (`--lr -1` gives a three-line "argument is ambiguous"), has no
 * did-you-mean, and its unknown-option message quotes oddly. Here a flag that takes a value
 * always takes the next word, so `--lr -1` reaches the number rule and gets its one line.
 */

interface Common {
  /** What the flag does, for --help; later lines of a multi-line text are indented under the first. */
  help: string;
  /** Printed as a heading above this flag in --help (the first flag of a group). */
  section?: string;
}
export interface BoolFlag extends Common {
  kind: 'bool';
}
export interface TextFlag extends Common {
  /** text: any non-empty word; path: a file or folder (non-empty, and not a flag: `--out --json` forgot the value). */
  kind: 'text' | 'path';
  arg?: string;
  default?: string;
}
export interface ChoiceFlag extends Common {
  kind: 'choice';
  choices: readonly string[];
  default?: string;
}
export interface IntFlag extends Common {
  kind: 'int';
  arg?: string;
  /** Smallest allowed value (default 1). */
  min?: number;
  max?: number;
  default?: number;
}
export interface NumberFlag extends Common {
  kind: 'number';
  arg?: string;
  /** The allowed interval; `open` names the ends that are excluded. Unbounded where unset. */
  min?: number;
  max?: number;
  open?: 'min' | 'max' | 'both';
  default?: number;
}
export type FlagSpec = BoolFlag | TextFlag | ChoiceFlag | IntFlag | NumberFlag;
export type FlagTable = Record<string, FlagSpec>;

export interface CommandSpec<T extends FlagTable> {
  /** `fer train [options]`: the first line of --help. */
  usage: string;
  /** How messages name the command (default: the usage's first two words, `fer train`). */
  name?: string;
  /** Paragraphs between the usage line and the flags. */
  about?: string;
  /** Text after the flags. */
  footer?: string;
  flags: T;
  /** Positional arguments: how many are allowed (default none). */
  positionals?: { min: number; max: number; what: string };
}

type ValueOf<S> = S extends BoolFlag ? boolean : S extends IntFlag | NumberFlag ? number : string;
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K] extends BoolFlag ? boolean : T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};
export interface Parsed<T extends FlagTable> {
  values: FlagValues<T>;
  positionals: string[];
  /** Flags the user gave (defaults excluded): some commands reject flags that do not apply. */
  given: Set<keyof T & string>;
}

/** Keeps the table's literal kinds so FlagValues can type each value. */
export function defineCommand<T extends FlagTable>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}

const name = (usage: string) => usage.split(/\s+/).slice(0, 2).join(' ');

function intervalText(s: NumberFlag): string {
  const lo = s.min;
  const hi = s.max;
  const openLo = s.open === 'min' || s.open === 'both';
  const openHi = s.open === 'max' || s.open === 'both';
  if (lo !== undefined && hi !== undefined) return `a number in ${openLo ? '(' : '['}${lo}, ${hi}${openHi ? ')' : ']'}`;
  if (lo !== undefined) return `a number ${openLo ? '>' : '>='} ${lo}`;
  if (hi !== undefined) return `a number ${openHi ? '<' : '<='} ${hi}`;
  return 'a number';
}

function intText(s: IntFlag): string {
  const min = s.min ?? 1;
  if (s.max !== undefined) return `an integer in [${min}, ${s.max}]`;
  return min === 1 ? 'a positive integer' : `an integer >= ${min}`;
}

/** What the rule of a flag's kind accepts, as the error and the tests word it. */
export function ruleText(s: FlagSpec): string {
  switch (s.kind) {
    case 'bool':
      return 'given without a value';
    case 'text':
      return 'a non-empty value';
    case 'path':
      return 'a path';
    case 'choice':
      return s.choices.length === 1 ? s.choices[0] : `${s.choices.slice(0, -1).join(', ')} or ${s.choices.at(-1)}`;
    case 'int':
      return intText(s);
    case 'number':
      return intervalText(s);
  }
}

/** Checks one value against its flag's rule; returns it typed or throws the one-line error. */
export function checkValue(flag: string, s: FlagSpec, raw: string): string | number {
  const bad = () => new FerError(`--${flag} must be ${ruleText(s)}, got "${raw}"`);
  switch (s.kind) {
    case 'bool':
      throw new FerError(`--${flag} takes no value, got "${raw}"`);
    case 'text':
      if (raw === '') throw bad();
      return raw;
    case 'path':
      if (raw === '' || raw.startsWith('--')) throw bad();
      return raw;
    case 'choice':
      if (!s.choices.includes(raw)) throw bad();
      return raw;
    case 'int': {
      const x = Number(raw);
      if (raw.trim() === '' || !Number.isInteger(x) || x < (s.min ?? 1) || (s.max !== undefined && x > s.max)) throw bad();
      return x;
    }
    case 'number': {
      const x = Number(raw);
      const openLo = s.open === 'min' || s.open === 'both';
      const openHi = s.open === 'max' || s.open === 'both';
      const ok =
        raw.trim() !== '' &&
        Number.isFinite(x) &&
        (s.min === undefined || (openLo ? x > s.min : x >= s.min)) &&
        (s.max === undefined || (openHi ? x < s.max : x <= s.max));
      if (!ok) throw bad();
      return x;
    }
  }
}

/** Edits (insert, delete, substitute, swap two neighbours) from a to b. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known flag a mistyped one most likely meant: a small edit away, or one a prefix of the other (--batch-size, --batch). */
export function didYouMean(typed: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const k of known) {
    const d = editDistance(typed, k);
    const prefix = k.length >= 2 && (typed.startsWith(k) || k.startsWith(typed)) && typed.length >= 2;
    const score = prefix ? Math.min(d, 1.5) : d;
    const near = d <= Math.max(1, Math.floor(Math.max(k.length, typed.length) / 3)) && d < Math.min(k.length, typed.length);
    if ((prefix || near) && score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Parses argv against the table. Returns null after printing --help (to stdout); throws a
 * FerError with one line for anything it cannot accept.
 */
export function parseFlags<T extends FlagTable>(cmd: CommandSpec<T>, argv: string[]): Parsed<T> | null {
  const flags = cmd.flags;
  const known = Object.keys(flags);
  const raw = new Map<string, string | true>();
  const positionals: string[] = [];
  const command = cmd.name ?? name(cmd.usage);
  const sub = command.replace(/^fer /, '');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') {
      console.log(helpText(cmd));
      return null;
    }
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) {
      positionals.push(a);
      continue;
    }
    const dashes = a.startsWith('--') ? '--' : '-';
    const body = a.slice(dashes.length);
    const eq = body.indexOf('=');
    const flag = eq < 0 ? body : body.slice(0, eq);
    const spec = dashes === '--' && Object.hasOwn(flags, flag) ? flags[flag] : undefined;
    if (!spec) {
      const guess = didYouMean(flag, known);
      throw new FerError(`unknown option ${dashes}${flag}${guess ? ` (did you mean --${guess}?)` : ''}; ${command} --help lists the options`);
    }
    if (spec.kind === 'bool') {
      if (eq >= 0) throw new FerError(`--${flag} takes no value, got "${body.slice(eq + 1)}"`);
      raw.set(flag, true);
      continue;
    }
    // A number flag takes the next word even when it starts with a dash (--lr -1); another
    // flag's name after a text flag means its value was forgotten (--out --json).
    const next = argv[i + 1];
    const numeric = spec.kind === 'int' || spec.kind === 'number';
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (next !== undefined && (numeric || !/^--./.test(next))) value = argv[++i];
    else throw new FerError(`--${flag} needs a value: ${ruleText(spec)}`);
    raw.set(flag, value);
  }

  const p = cmd.positionals ?? { min: 0, max: 0, what: '' };
  if (positionals.length > p.max) {
    throw new FerError(
      p.max === 0
        ? `${sub} takes no positional arguments, got "${positionals[0]}" (${command} --help)`
        : `${sub} takes ${p.what}, got ${positionals.map((x) => `"${x}"`).join(' ')}`,
    );
  }
  if (positionals.length < p.min) throw new FerError(`${sub} needs ${p.what} (${command} --help)`);

  const values: Record<string, unknown> = {};
  const given = new Set<keyof T & string>();
  for (const [flag, spec] of Object.entries(flags)) {
    const r = raw.get(flag);
    if (r !== undefined) given.add(flag as keyof T & string);
    if (spec.kind === 'bool') values[flag] = r === true;
    else if (r !== undefined) values[flag] = checkValue(flag, spec, r as string);
    else values[flag] = spec.default;
  }
  return { values: values as FlagValues<T>, positionals, given };
}

function flagLabel(flag: string, s: FlagSpec): string {
  if (s.kind === 'bool') return `--${flag}`;
  if (s.kind === 'choice') return `--${flag} ${s.choices.join('|')}`;
  const arg = s.arg ?? (s.kind === 'int' ? 'N' : s.kind === 'number' ? 'X' : s.kind === 'path' ? 'PATH' : 'VALUE');
  return `--${flag} ${arg}`;
}

/** The --help text: usage, about, each flag with its help (and its default where the table holds one), footer. */
export function helpText<T extends FlagTable>(cmd: CommandSpec<T>): string {
  const entries = Object.entries(cmd.flags);
  const labels = entries.map(([f, s]) => flagLabel(f, s));
  const width = Math.min(28, Math.max(20, ...labels.map((l) => l.length + 2)));
  const out = [cmd.usage, ''];
  if (cmd.about) out.push(cmd.about, '');
  for (const [i, [, s]] of entries.entries()) {
    if (s.section) out.push(s.section);
    const shown = 'default' in s && s.default !== undefined && !/\(default/.test(s.help) ? `${s.help} (default ${s.default})` : s.help;
    const [first, ...rest] = shown.split('\n');
    const label = `  ${labels[i]}`;
    out.push(label.length + 1 > width + 2 ? `${label}\n${' '.repeat(width + 2)}${first}` : `${label.padEnd(width + 2)}${first}`);
    for (const line of rest) out.push(`${' '.repeat(width + 2)}${line}`);
  }
  out.push(`  ${'-h, --help'.padEnd(width)}this text`);
  if (cmd.footer) out.push('', cmd.footer);
  return out.join('\n');
}

/** "1 epoch", "2 epochs": counts in messages agree with their noun. */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : many}`;
}
