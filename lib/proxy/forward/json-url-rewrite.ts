import { rewriteUrl, type LinkRewrite } from './link-rewrite.js';

/**
 * Rewrites upstream URLs inside a JSON body as it streams past (`@odata.nextLink`,
 * `links.next.href`, `nextPage`): a string value that is an absolute URL on the upstream (origin
 * and base path, as rewriteUrl decides for Location) becomes the client's route, in the same
 * escaping the server used (`https:\/\/host\/...` stays escaped).
 *
 * A purpose-built scanner rather than a streaming JSON parser: only strings that start with the
 * upstream's origin matter, and finding them is one native `indexOf` per occurrence of `"http`
 * while every other byte is passed on as the same Buffer, untouched and uncopied. A parser would
 * tokenise every byte, and re-serialising what it parsed would alter numbers and formatting. What
 * is held back between chunks is bounded: a few bytes of a possible `"http`, or one candidate
 * string of at most MAX_URL_BYTES (a longer one is passed on as it is).
 *
 * Why an unescaped `"` followed by `http` always opens a string: after a closing quote valid JSON
 * has only `,` `:` `}` `]` or whitespace, and inside a string a quote is always escaped.
 */
export const MAX_URL_BYTES = 64 * 1024;

const NEEDLE = Buffer.from('"http');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** shared: a zero-length Buffer cannot be written into, and allocating one per body shows */
const NOTHING_HELD = Buffer.alloc(0);

export class JsonUrlRewriter {
  /** string values rewritten so far */
  rewritten = 0;
  readonly #rewrite: LinkRewrite;
  /** the upstream origin as it starts a URL string: plain, and with JSON's `\/` escapes */
  #prefixes: readonly Buffer[] | undefined;
  /** bytes not yet passed on: the start of a possible candidate cut by the end of a chunk */
  #held: Buffer | undefined;
  /** the bytes passed on so far end in an odd run of backslashes (the next `"` is escaped) */
  #oddBackslashes = false;

  constructor(rewrite: LinkRewrite) {
    this.#rewrite = rewrite;
  }

  /** The bytes to send for `chunk`: the same Buffer when nothing in it needed rewriting. */
  push(chunk: Buffer): Buffer {
    const buf = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
    this.#held = undefined;
    let pieces: Buffer[] | undefined;
    let emitted = 0;
    let from = 0;
    for (;;) {
      const q = buf.indexOf(NEEDLE, from);
      if (q === -1) break;
      from = q + 1;
      if (this.#escaped(buf, q)) continue;
      const match = this.#matchPrefix(buf, q + 1);
      if (match === 'no') continue;
      const end = match === 'cut' ? -1 : stringEnd(buf, q + 1);
      if (end === -1) {
        // the candidate goes on in the next chunk: hold it back, unless it is already too long
        if (buf.length - q > MAX_URL_BYTES) continue;
        return this.#hold(buf, emitted, q, pieces);
      }
      const replacement = this.#rewritten(buf, q + 1, end);
      from = end + 1;
      if (replacement === undefined) continue;
      (pieces ??= []).push(buf.subarray(emitted, q + 1), replacement);
      emitted = end;
    }
    return this.#hold(buf, emitted, buf.length - partialNeedle(buf), pieces);
  }

  /** What is still held back, at the end of the body. */
  end(): Buffer {
    const rest = this.#held ?? NOTHING_HELD;
    this.#held = undefined;
    return rest;
  }

  /** Passes on buf[emitted, holdFrom) (after `pieces`) and keeps the rest for the next chunk. */
  #hold(buf: Buffer, emitted: number, holdFrom: number, pieces: Buffer[] | undefined): Buffer {
    if (holdFrom < buf.length) this.#held = Buffer.from(buf.subarray(holdFrom));
    this.#oddBackslashes = oddBackslashesBefore(buf, holdFrom, this.#oddBackslashes);
    const last = emitted === 0 && holdFrom === buf.length ? buf : buf.subarray(emitted, holdFrom);
    if (pieces === undefined) return last;
    pieces.push(last);
    return Buffer.concat(pieces);
  }

  #escaped(buf: Buffer, quote: number): boolean {
    return oddBackslashesBefore(buf, quote, this.#oddBackslashes);
  }

  /** Does the string starting at `at` begin with the upstream origin (ASCII case ignored)? */
  #matchPrefix(buf: Buffer, at: number): 'yes' | 'no' | 'cut' {
    let cut = false;
    const prefixes = (this.#prefixes ??= originPrefixes(this.#rewrite.upstreamOrigin));
    for (const prefix of prefixes) {
      const n = Math.min(prefix.length, buf.length - at);
      let i = 0;
      while (i < n && (buf[at + i]! | 0x20) === (prefix[i]! | 0x20)) i++;
      if (i === prefix.length) return 'yes';
      if (i === n) cut = true;
    }
    return cut ? 'cut' : 'no';
  }

  /** The JSON string content buf[start, end) rewritten, or undefined when it stays as it is. */
  #rewritten(buf: Buffer, start: number, end: number): Buffer | undefined {
    const raw = buf.toString('utf8', start, end);
    const escaped = raw.includes('\\');
    let url = raw;
    if (escaped) {
      try {
        url = JSON.parse(`"${raw}"`) as string;
      } catch {
        return undefined;
      }
    }
    const mapped = rewriteUrl(url, this.#rewrite);
    if (mapped === url) return undefined;
    this.rewritten++;
    let text = needsEscape(mapped) ? JSON.stringify(mapped).slice(1, -1) : mapped;
    if (escaped && raw.includes('\\/')) text = text.replaceAll('/', '\\/');
    return Buffer.from(text, 'utf8');
  }
}

/** Index of the quote that closes the string whose content starts at `from`; -1 if not in buf. */
function stringEnd(buf: Buffer, from: number): number {
  for (let i = from; ; i++) {
    i = buf.indexOf(QUOTE, i);
    if (i === -1) return -1;
    let run = 0;
    while (i - run - 1 >= from && buf[i - run - 1] === BACKSLASH) run++;
    if (run % 2 === 0) return i;
  }
}

/** Whether the bytes before `at` end in an odd run of backslashes (`before`: the run's parity before buf). */
function oddBackslashesBefore(buf: Buffer, at: number, before: boolean): boolean {
  let run = 0;
  while (at - run - 1 >= 0 && buf[at - run - 1] === BACKSLASH) run++;
  const odd = run % 2 === 1;
  return at - run === 0 ? odd !== before : odd;
}

/** `https://api.example.com` and `https:\/\/api.example.com`, made once per origin */
const PREFIXES = new Map<string, readonly Buffer[]>();

function originPrefixes(origin: string): readonly Buffer[] {
  let prefixes = PREFIXES.get(origin);
  if (prefixes === undefined) {
    const lower = origin.toLowerCase();
    prefixes = [Buffer.from(lower), Buffer.from(lower.replaceAll('/', '\\/'))];
    PREFIXES.set(origin, prefixes);
  }
  return prefixes;
}

/** How many bytes at the end of buf could begin `"http` (held back until the next chunk). */
function partialNeedle(buf: Buffer): number {
  const last = buf[buf.length - 1];
  // nearly every chunk ends in none of `"htp`: no compare at all
  if (last !== 0x22 && last !== 0x68 && last !== 0x74 && last !== 0x70) return 0;
  for (let n = Math.min(NEEDLE.length - 1, buf.length); n > 0; n--) {
    if (buf.compare(NEEDLE, 0, n, buf.length - n) === 0) return n;
  }
  return 0;
}

/** Would JSON.stringify escape anything in `text` (a quote, a backslash, a control character)? */
function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}
