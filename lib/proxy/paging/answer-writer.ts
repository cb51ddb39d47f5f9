import type { ServerResponse } from 'node:http';
import type { TokenshimError } from '../../errors.js';
import type { JsonUrlRewriter } from '../forward/json-url-rewrite.js';
import { sendProblem } from '../../http/problem.js';
import type { RecordOutput } from './page-scanner.js';
import { NDJSON } from './paging-request.js';

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
const EMPTY = Buffer.from('[]');
const NEWLINE = Buffer.from('\n');

/**
 * The joined answer: one JSON array of every page's records in order, or one record per line
 * (NDJSON). Nothing is sent before the first record (or the end of an empty walk), so a failure on
 * the first page can still be a problem+json; after that, a failure cuts the connection with the
 * array left open, which no JSON or NDJSON reader takes for a complete result.
 * Records pass through the URL rewriter when the route rewrites bodies.
 */
export class AnswerWriter implements RecordOutput {
  records = 0;
  readonly #res: ServerResponse;
  readonly #ndjson: boolean;
  readonly #rewriter: JsonUrlRewriter | undefined;
  #pieces: Buffer[] = [];
  #started = false;

  constructor(res: ServerResponse, format: 'json' | 'ndjson', rewriter?: JsonUrlRewriter) {
    this.#res = res;
    this.#ndjson = format === 'ndjson';
    this.#rewriter = rewriter;
  }

  /** the client has the status line: from now on a failure can only cut the answer */
  get started(): boolean {
    return this.#started;
  }

  begin(): void {
    if (!this.#ndjson) this.#pieces.push(this.records === 0 ? OPEN : COMMA);
  }

  bytes(piece: Buffer): void {
    // one record per line: the line breaks of a pretty-printed page go (inside a JSON string a raw
    // line break cannot occur, so every one of them is whitespace between tokens)
    if (this.#ndjson && (piece.includes(0x0a) || piece.includes(0x0d)))
      piece = withoutLineBreaks(piece);
    this.#pieces.push(piece);
  }

  end(): void {
    if (this.#ndjson) this.#pieces.push(NEWLINE);
    this.records++;
  }

  /** Sends what the last chunk of a page produced. */
  flush(): void {
    if (this.#pieces.length === 0) return;
    const out = this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces);
    this.#pieces = [];
    this.#write(out);
  }

  /** Every page is in: the array is closed and the answer ends. */
  finish(): void {
    this.flush();
    let tail = this.#ndjson ? Buffer.alloc(0) : this.records === 0 ? EMPTY : CLOSE;
    this.#head();
    if (this.#rewriter) tail = Buffer.concat([this.#rewriter.push(tail), this.#rewriter.end()]);
    this.#res.end(tail);
  }

  /** Before the answer began: the problem. After: the connection is cut, the array left open. */
  fail(error: TokenshimError): void {
    this.#pieces = [];
    if (!this.#started) return sendProblem(this.#res, error);
    // after what was written has left (node sends a response's first bytes on the next tick):
    // the client gets the records so far, then a connection that ends without the last chunk
    setImmediate(() => this.#res.destroy());
  }

  #write(bytes: Buffer): void {
    this.#head();
    const out = this.#rewriter ? this.#rewriter.push(bytes) : bytes;
    if (out.length > 0) this.#res.write(out);
  }

  #head(): void {
    if (this.#started) return;
    this.#started = true;
    this.#res.writeHead(200, {
      'content-type': this.#ndjson ? NDJSON : 'application/json; charset=utf-8',
    });
  }
}

function withoutLineBreaks(piece: Buffer): Buffer {
  const out = Buffer.allocUnsafe(piece.length);
  let n = 0;
  for (const b of piece) if (b !== 0x0a && b !== 0x0d) out[n++] = b;
  return out.subarray(0, n);
}
