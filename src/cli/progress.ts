/**
 * One live status line on stderr: rewritten in place on a terminal, printed at most every
 * few seconds otherwise (CI logs, pipes), so long work always shows it is alive.
 */
export class ProgressLine {
  #last = 0;
  #shown = false;
  readonly #tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 5000,
  ) {
    this.#tty = Boolean(stream.isTTY);
  }

  update(text: string, force = false): void {
    const now = Date.now();
    if (this.#tty) {
      if (!force && now - this.#last < 100) return;
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r${text.slice(0, width - 1).padEnd(Math.min(width - 1, text.length + 2))}`);
      this.#shown = true;
    } else {
      if (!force && now - this.#last < this.everyMs) return;
      this.stream.write(`${text}\n`);
    }
    this.#last = now;
  }

  /** Ends the live line so the next output starts on a fresh one. */
  done(finalText?: string): void {
    if (this.#tty && this.#shown) this.stream.write(finalText ? `\r${finalText}\x1b[K\n` : '\n');
    else if (finalText) this.stream.write(`${finalText}\n`);
    this.#shown = false;
  }
}

export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}
