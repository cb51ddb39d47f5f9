/**
 * One page of a paged API answer, read as it streams: each element of the records array is handed
 * on byte for byte (never parsed into objects and written back: a 64-bit id or `1.50` stays
 * exactly as the API wrote it), and the next-page value is kept. Memory is one frame per nesting
 * level plus the next value (at most MAX_NEXT_BYTES), whatever the page's size.
 *
 * Paths are dot-separated keys; a key may itself contain dots (Graph's `@odata.nextLink`): at each
 * object, a key matches when it is the whole remaining path or its next dotted part. For the next
 * value, a match that used fewer keys wins (`@odata.nextLink` as one key over `@odata` > `nextLink`);
 * for records, the first array found is taken. `$` is the page itself, `$.x` the same as `x`.
 *
 * A small purpose-built scanner rather than a streaming JSON library: those build values (losing
 * precision in large numbers) or emit a token object per token, and none matches keys with dots.
 */

export interface RecordOutput {
  /** a record starts */
  begin(): void;
  /** the next bytes of the current record */
  bytes(piece: Buffer): void;
  /** the current record is complete */
  end(): void;
}

export interface PageSummary {
  readonly records: number;
  /** the records path was there (an array, or null) */
  readonly recordsFound: boolean;
  /** the next URL or cursor: a string's value or a number's text; undefined when absent, null or "" */
  readonly next: string | undefined;
  /** the page's top-level keys (the first 20), for an error that says where records are not */
  readonly topKeys: readonly string[];
}

/** The page is not JSON, or not the shape the paging settings describe. */
export class PageFormatError extends Error {
  override readonly name = 'PageFormatError';
}

export const MAX_NEXT_BYTES = 64 * 1024;
const MAX_TOP_KEYS = 20;

const enum State {
  Value,
  ValueOrClose,
  Key,
  KeyOrClose,
  Colon,
  After,
  String,
  Literal,
  Done,
}

interface Frame {
  readonly array: boolean;
  /** records paths still to find inside this object */
  readonly records: readonly string[];
  readonly next: readonly string[];
  /** keys from the page root down to this object */
  readonly keys: number;
  readonly isRecords: boolean;
}

const NONE: readonly string[] = [];
const BOM = [0xef, 0xbb, 0xbf];
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class PageScanner {
  readonly #out: RecordOutput;
  readonly #stack: Frame[] = [];
  #state = State.Value;
  /** bytes scanned before the current chunk, for error positions */
  #offset = 0;

  // what the value about to start is
  #vRecords: readonly string[];
  #vNext: readonly string[];
  #vIsRecords: boolean;
  /** keys used to reach this value when it is a next candidate; 0 when it is not one */
  #vNextKeys: number;

  // the string or literal being read
  #isKey = false;
  #escape = false;
  #keep: Buffer[] | undefined;
  #keepBytes = 0;
  /** the scalar being read is the records target or a next candidate (its text is kept) */
  #scalarIsRecords = false;
  #scalarNextKeys = 0;

  #recordsFound = false;
  #records = 0;
  /** stack depth of the record being read; -1 when none */
  #recordDepth = -1;
  #recordStart = 0;
  #nextFound: { keys: number; value: string | undefined } | undefined;
  readonly #topKeys: string[] = [];
  /** the chunk being scanned: record bytes are sliced from it */
  #current: Buffer = Buffer.alloc(0);
  /** where the kept string or literal starts in the current chunk */
  #keepFrom = 0;

  constructor(records: string, next: string | undefined, out: RecordOutput) {
    this.#out = out;
    const r = withoutRoot(records);
    this.#vIsRecords = r === '';
    this.#vRecords = r === '' ? NONE : [r];
    this.#vNext = next === undefined ? NONE : [withoutRoot(next)];
    this.#vNextKeys = 0;
  }

  push(buf: Buffer): void {
    this.#current = buf;
    let i = 0;
    // a UTF-8 byte order mark (EF BB BF) before the JSON, however the chunks cut it
    while (this.#offset + i < 3 && i < buf.length && buf[i] === BOM[this.#offset + i]) i++;
    const n = buf.length;
    while (i < n) {
      switch (this.#state) {
        case State.String:
          i = this.#string(buf, i);
          break;
        case State.Literal:
          i = this.#literal(buf, i);
          break;
        default:
          i = this.#structure(buf, i);
      }
    }
    if (this.#recordDepth !== -1 && this.#recordStart < n)
      this.#out.bytes(buf.subarray(this.#recordStart, n));
    this.#recordStart = 0;
    if (this.#keep !== undefined && this.#keepFrom < n)
      this.#keepPiece(buf.subarray(this.#keepFrom, n));
    this.#keepFrom = 0;
    this.#offset += n;
  }

  end(): PageSummary {
    if (this.#state === State.Literal && this.#stack.length === 0) {
      // a bare literal as the whole page: its end is the body's end
      const text =
        this.#keep === undefined ? undefined : Buffer.concat(this.#keep).toString('utf8');
      this.#keep = undefined;
      this.#scalarDone(text, false, 0);
    }
    if (this.#state !== State.Done) {
      throw new PageFormatError(
        this.#offset === 0
          ? 'the page is empty, not JSON'
          : `the page ended before its JSON did (after ${this.#offset} bytes)`,
      );
    }
    return {
      records: this.#records,
      recordsFound: this.#recordsFound,
      next: this.#nextFound?.value,
      topKeys: this.#topKeys,
    };
  }

  #structure(buf: Buffer, start: number): number {
    const n = buf.length;
    for (let i = start; i < n; i++) {
      const c = buf[i]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      switch (this.#state) {
        case State.Done:
          throw this.#unexpected(buf, i, 'after the end of the JSON');
        case State.Colon:
          if (c !== 0x3a) throw this.#unexpected(buf, i, 'where ":" belongs');
          this.#state = State.Value;
          continue;
        case State.After:
          if (c === 0x2c /* , */) {
            this.#state = this.#top().array ? State.Value : State.Key;
            if (this.#top().array) this.#elementContext();
            continue;
          }
          if (c === (this.#top().array ? 0x5d : 0x7d)) {
            this.#close(i + 1);
            continue;
          }
          throw this.#unexpected(buf, i, 'where "," or the end of the container belongs');
        case State.KeyOrClose:
        case State.Key:
          if (c === 0x7d /* } */ && this.#state === State.KeyOrClose) {
            this.#close(i + 1);
            continue;
          }
          if (c !== QUOTE) throw this.#unexpected(buf, i, 'where a key belongs');
          this.#isKey = true;
          this.#startString(
            i + 1,
            this.#top().records.length > 0 ||
              this.#top().next.length > 0 ||
              this.#stack.length === 1,
          );
          return i + 1;
        case State.ValueOrClose:
        case State.Value:
          if (c === 0x5d /* ] */ && this.#state === State.ValueOrClose) {
            this.#close(i + 1);
            continue;
          }
          return this.#value(buf, i);
      }
    }
    return n;
  }

  /** The first byte of a value at `i`. */
  #value(buf: Buffer, i: number): number {
    const c = buf[i]!;
    if (this.#recordDepth === -1 && this.#stack.length > 0 && this.#top().isRecords) {
      this.#recordDepth = this.#stack.length;
      this.#recordStart = i;
      this.#out.begin();
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const array = c === 0x5b;
      if (this.#vNextKeys > 0)
        throw new PageFormatError(
          `the next value is ${array ? 'an array' : 'an object'}, not a URL or cursor: point the next path at the string inside it`,
        );
      const isRecords = this.#vIsRecords && !this.#recordsFound;
      if (isRecords) {
        if (!array) throw new PageFormatError('the records path names an object, not an array');
        this.#recordsFound = true;
      }
      this.#stack.push({
        array,
        records: array || this.#recordsFound ? NONE : this.#vRecords,
        next: array ? NONE : this.#vNext,
        keys: this.#stack.length === 0 ? 0 : this.#keysAbove(),
        isRecords,
      });
      this.#state = array ? State.ValueOrClose : State.KeyOrClose;
      if (array) this.#elementContext();
      return i + 1;
    }
    this.#scalarIsRecords = this.#vIsRecords && !this.#recordsFound;
    this.#scalarNextKeys = this.#vNextKeys;
    const keep = this.#scalarIsRecords || this.#scalarNextKeys > 0;
    if (c === QUOTE) {
      this.#isKey = false;
      this.#startString(i + 1, keep);
      return i + 1;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
      this.#state = State.Literal;
      this.#keep = keep ? [] : undefined;
      this.#keepBytes = 0;
      this.#keepFrom = i;
      return i;
    }
    throw this.#unexpected(buf, i, 'where a value belongs');
  }

  #startString(from: number, keep: boolean): void {
    this.#state = State.String;
    this.#escape = false;
    this.#keep = keep ? [] : undefined;
    this.#keepBytes = 0;
    this.#keepFrom = from;
  }

  #string(buf: Buffer, start: number): number {
    const n = buf.length;
    let i = start;
    let escape = this.#escape;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (escape) escape = false;
      else if (c === BACKSLASH) escape = true;
      else if (c === QUOTE) break;
    }
    this.#escape = escape;
    if (i === n) return n;
    const text = this.#kept(buf, i);
    if (this.#isKey) this.#keyDone(text === undefined ? '' : decodeString(text));
    else this.#scalarDone(text === undefined ? undefined : decodeString(text), true, i + 1);
    return i + 1;
  }

  #literal(buf: Buffer, start: number): number {
    const n = buf.length;
    let i = start;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (
        c === 0x2c ||
        c === 0x7d ||
        c === 0x5d ||
        c === 0x20 ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09
      )
        break;
    }
    if (i === n) return n;
    this.#scalarDone(this.#kept(buf, i), false, i);
    return i;
  }

  /** The kept bytes of the current string or literal ending at `end`, as text. */
  #kept(buf: Buffer, end: number): string | undefined {
    const keep = this.#keep;
    this.#keep = undefined;
    if (keep === undefined) return undefined;
    if (end > this.#keepFrom) keep.push(buf.subarray(this.#keepFrom, end));
    this.#keepFrom = 0;
    return Buffer.concat(keep).toString('utf8');
  }

  #keepPiece(piece: Buffer): void {
    this.#keepBytes += piece.length;
    if (this.#keepBytes > MAX_NEXT_BYTES)
      throw new PageFormatError(
        `a value on the records or next path is longer than ${MAX_NEXT_BYTES} bytes`,
      );
    this.#keep!.push(Buffer.from(piece));
  }

  #keyDone(key: string): void {
    const f = this.#top();
    if (this.#stack.length === 1 && this.#topKeys.length < MAX_TOP_KEYS) this.#topKeys.push(key);
    this.#vIsRecords = !this.#recordsFound && f.records.includes(key);
    this.#vRecords = inside(f.records, key);
    this.#vNextKeys = f.next.includes(key) ? f.keys + 1 : 0;
    this.#vNext = inside(f.next, key);
    this.#state = State.Colon;
  }

  /** A string or literal value ended (`end`: just after it). */
  #scalarDone(text: string | undefined, isString: boolean, end: number): void {
    if (this.#scalarIsRecords) {
      if (isString || text !== 'null')
        throw new PageFormatError(
          `the records path names ${isString ? 'a string' : text}, not an array`,
        );
      this.#recordsFound = true;
    }
    if (this.#scalarNextKeys > 0) {
      if (!isString && (text === 'true' || text === 'false'))
        throw new PageFormatError(`the next value is ${text}, not a URL or cursor`);
      const value = text === '' || (!isString && text === 'null') ? undefined : text;
      if (this.#nextFound === undefined || this.#scalarNextKeys < this.#nextFound.keys)
        this.#nextFound = { keys: this.#scalarNextKeys, value };
    }
    this.#valueDone(end);
  }

  #close(end: number): void {
    this.#stack.pop();
    this.#valueDone(end);
  }

  /** A value ended just before `end`: a record, maybe, and what may follow it. */
  #valueDone(end: number): void {
    if (this.#recordDepth === this.#stack.length) {
      this.#out.bytes(this.#current.subarray(this.#recordStart, end));
      this.#out.end();
      this.#records++;
      this.#recordDepth = -1;
    }
    this.#state = this.#stack.length === 0 ? State.Done : State.After;
  }

  #elementContext(): void {
    this.#vIsRecords = false;
    this.#vRecords = NONE;
    this.#vNext = NONE;
    this.#vNextKeys = 0;
  }

  #top(): Frame {
    return this.#stack[this.#stack.length - 1]!;
  }

  #keysAbove(): number {
    const top = this.#top();
    return top.array ? top.keys : top.keys + 1;
  }

  #unexpected(buf: Buffer, i: number, where: string): PageFormatError {
    const c = buf[i]!;
    const shown =
      c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16)}`;
    return new PageFormatError(
      `the page is not valid JSON: ${shown} at byte ${this.#offset + i}, ${where}`,
    );
  }
}

function withoutRoot(path: string): string {
  if (path === '$') return '';
  return path.startsWith('$.') ? path.slice(2) : path;
}

/** The remaining paths inside the value of `key`, for each path that continues through it. */
function inside(paths: readonly string[], key: string): readonly string[] {
  if (paths.length === 0) return NONE;
  let out: string[] | undefined;
  for (const p of paths) {
    if (p.length > key.length && p.charCodeAt(key.length) === 0x2e && p.startsWith(key))
      (out ??= []).push(p.slice(key.length + 1));
  }
  return out ?? NONE;
}

function decodeString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    throw new PageFormatError('the page is not valid JSON: a bad escape in a string');
  }
}
