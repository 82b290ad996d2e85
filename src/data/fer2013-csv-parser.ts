import { FerError } from '../backend/errors.ts';
import { NUM_CLASSES } from './emotions.ts';
import { PIXELS, USAGES } from './dataset.ts';

/** Where the parser sends each row: a good one (its pixels in a reused buffer) or a bad one. */
export interface CsvRowSink {
  row(usage: number, label: number, pixels: Uint8Array): void;
  bad(line: number, reason: string, detail: string): void;
}

const NEEDED = ['emotion', 'pixels', 'Usage'] as const;
const MAX_HEADER = 4096;
const TEXT_CAP = 32;

const NL = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

/**
 * FER2013's CSV parsed straight from bytes, chunk by chunk as they arrive: the 2,304 pixel
 * numbers of a row go digit by digit into one reused row buffer, so no row ever becomes a
 * string and the file's text is never held. Columns are found by header name, in any order;
 * fields may be quoted (no quoted commas or newlines: FER2013 has none). Blank lines are not
 * rows. A bad row is reported once, with the first thing wrong with it, and then skipped to
 * its newline.
 */
export class Fer2013CsvParser {
  readonly #name: string;
  readonly #sink: CsvRowSink;

  #header: number[] | null = [];
  #columns: string[] = [];
  #colEmotion = -1;
  #colPixels = -1;
  #colUsage = -1;

  #line = 2;
  #field = 0;
  #rowBytes = 0;
  #inQuote = false;
  #err: string | null = null;
  #errDetail = '';
  readonly #text = new Uint8Array(TEXT_CAP);
  #textLen = 0;
  #label = -1;
  #usage = -1;
  readonly #pixels = new Uint8Array(PIXELS);
  #count = 0;
  #value = 0;
  #inNum = false;

  /** `name` (the file) prefixes the one-line header errors. */
  constructor(name: string, sink: CsvRowSink) {
    this.#name = name;
    this.#sink = sink;
  }

  push(buf: Uint8Array): void {
    const n = buf.length;
    let i = 0;
    if (this.#header !== null) {
      i = this.#readHeader(buf);
      if (this.#header !== null) return;
    }
    while (i < n) {
      if (this.#err !== null) {
        const j = buf.indexOf(NL, i);
        if (j < 0) return;
        i = j + 1;
        this.#endRow();
        continue;
      }
      if (this.#field === this.#colPixels) {
        i = this.#scanPixels(buf, i);
        if (i >= n) return;
      }
      const c = buf[i++];
      if (c === NL) this.#endRow();
      else if (c === CR) continue;
      else {
        this.#rowBytes++;
        if (c === QUOTE) this.#inQuote = !this.#inQuote;
        else if (c === COMMA && !this.#inQuote) this.#endField();
        else this.#other(c);
      }
    }
  }

  /** Call once after the last chunk: finishes a last row that has no newline. */
  end(): void {
    if (this.#header !== null) {
      if (this.#header.length === 0) throw new FerError(`${this.#name}: empty file, want a header line emotion,pixels,Usage`);
      this.#parseHeader();
      return;
    }
    if (this.#rowBytes > 0 || this.#err !== null) this.#endRow();
  }

  /** The hot loop: digits and spaces of the pixels field. Returns where it stopped. */
  #scanPixels(buf: Uint8Array, start: number): number {
    const n = buf.length;
    const px = this.#pixels;
    let value = this.#value;
    let inNum = this.#inNum;
    let count = this.#count;
    let i = start;
    for (; i < n; i++) {
      const c = buf[i];
      if (c >= ZERO && c <= NINE) {
        value = value * 10 + (c - ZERO);
        inNum = true;
      } else if (c === SPACE) {
        if (inNum) {
          if (value > 255) {
            this.#fail('pixel value out of range', `pixel ${count + 1} is ${value}, want 0–255`);
            break;
          }
          if (count < PIXELS) px[count] = value;
          count++;
          value = 0;
          inNum = false;
        }
      } else break;
    }
    this.#rowBytes += i - start;
    this.#value = value;
    this.#inNum = inNum;
    this.#count = count;
    return i;
  }

  #other(c: number): void {
    if (this.#field === this.#colPixels) {
      if (c === TAB) this.#flushNumber();
      else if (c === MINUS) this.#fail('pixel value out of range', `pixel ${this.#count + 1} is negative, want 0–255`);
      else this.#fail('non-numeric pixel', `pixel ${this.#count + 1} has ${JSON.stringify(String.fromCharCode(c))}, want digits 0–255`);
    } else if (this.#textLen < TEXT_CAP) {
      this.#text[this.#textLen++] = c;
    }
  }

  #flushNumber(): void {
    if (!this.#inNum) return;
    if (this.#value > 255) return this.#fail('pixel value out of range', `pixel ${this.#count + 1} is ${this.#value}, want 0–255`);
    if (this.#count < PIXELS) this.#pixels[this.#count] = this.#value;
    this.#count++;
    this.#value = 0;
    this.#inNum = false;
  }

  #endField(): void {
    const f = this.#field;
    if (f === this.#colPixels) {
      this.#flushNumber();
      if (this.#err !== null) return;
      if (this.#count === 0) this.#fail('missing field', 'empty pixels');
      else if (this.#count !== PIXELS) this.#fail('wrong pixel count', `${this.#count} values, want ${PIXELS}`);
    } else if (f === this.#colEmotion) {
      const t = this.#fieldText();
      const v = /^\d{1,3}$/.test(t) ? Number(t) : -1;
      if (t === '') this.#fail('missing field', 'empty emotion');
      else if (v < 0 || v >= NUM_CLASSES) this.#fail('unknown label', `emotion ${JSON.stringify(t)}, want 0–${NUM_CLASSES - 1}`);
      else this.#label = v;
    } else if (f === this.#colUsage) {
      const t = this.#fieldText();
      const u = (USAGES as readonly string[]).indexOf(t);
      if (t === '') this.#fail('missing field', 'empty Usage');
      else if (u < 0) this.#fail('unknown Usage', `${JSON.stringify(t)}, want ${USAGES.join(', ')}`);
      else this.#usage = u;
    }
    this.#textLen = 0;
    this.#field++;
  }

  #endRow(): void {
    if (this.#err === null) {
      if (this.#rowBytes === 0 && this.#field === 0) {
        this.#line++;
        return;
      }
      this.#endField();
      const fields = this.#field;
      const want = this.#columns.length;
      if (this.#err !== null) {
        // reported below
      } else if (this.#inQuote) this.#fail('unbalanced quote', 'a field opens a quote it never closes');
      else if (fields < want) this.#fail('missing field', `no ${this.#columns[fields]} field: ${fields} of ${want} fields`);
      else if (fields > want) this.#fail('too many fields', `${fields} fields, want ${want}`);
    }
    if (this.#err !== null) this.#sink.bad(this.#line, this.#err, this.#errDetail);
    else this.#sink.row(this.#usage, this.#label, this.#pixels);
    this.#line++;
    this.#field = 0;
    this.#rowBytes = 0;
    this.#inQuote = false;
    this.#err = null;
    this.#errDetail = '';
    this.#textLen = 0;
    this.#label = -1;
    this.#usage = -1;
    this.#count = 0;
    this.#value = 0;
    this.#inNum = false;
  }

  /** Keeps the first thing wrong with a row. */
  #fail(reason: string, detail: string): void {
    if (this.#err !== null) return;
    this.#err = reason;
    this.#errDetail = detail;
  }

  #fieldText(): string {
    return String.fromCharCode(...this.#text.subarray(0, this.#textLen)).trim();
  }

  /** Collects line 1; returns where the rows start, or buf.length while the header goes on. */
  #readHeader(buf: Uint8Array): number {
    const header = this.#header!;
    const nl = buf.indexOf(NL);
    const end = nl < 0 ? buf.length : nl;
    for (let i = 0; i < end && header.length <= MAX_HEADER; i++) header.push(buf[i]);
    if (header.length > MAX_HEADER) {
      throw new FerError(`${this.#name}:1: no header line (over ${MAX_HEADER} bytes before the first newline), want emotion,pixels,Usage`);
    }
    if (nl < 0) return buf.length;
    this.#parseHeader();
    return nl + 1;
  }

  #parseHeader(): void {
    let text = new TextDecoder().decode(Uint8Array.from(this.#header!));
    this.#header = null;
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const names = text.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1').trim());
    this.#columns = names;
    const find = (want: string): number => {
      const at = names.flatMap((s, i) => (s.toLowerCase() === want.toLowerCase() ? [i] : []));
      const shown = text.trim().length > 80 ? `${text.trim().slice(0, 80)}…` : text.trim();
      if (at.length === 0) throw new FerError(`${this.#name}:1: header has no ${want} column (got "${shown}"; want emotion,pixels,Usage in any order)`);
      if (at.length > 1) throw new FerError(`${this.#name}:1: header has ${at.length} ${want} columns (got "${shown}"; want one each of emotion,pixels,Usage)`);
      return at[0];
    };
    [this.#colEmotion, this.#colPixels, this.#colUsage] = NEEDED.map(find);
  }
}
