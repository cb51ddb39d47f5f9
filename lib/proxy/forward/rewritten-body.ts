import type { ServerResponse } from 'node:http';
import { UpstreamError } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import type { Logger } from '../../log/logger.js';
import type { BodySink } from './body-sink.js';
import { DecodedBody, decodableCoding, type ContentCoding } from './content-decoding.js';
import { JsonUrlRewriter } from './json-url-rewrite.js';
import type { LinkRewrite } from './link-rewrite.js';

/** `application/json`, `application/problem+json`, `application/vnd.api+json; charset=utf-8` */
const JSON_TYPE = /^[a-z0-9!#$&^_.-]+\/(?:[a-z0-9!#$&^_.-]+\+)?json\s*(?:;|$)/i;

/**
 * Fields that describe the upstream's bytes, which a rewritten body no longer has: its length, its
 * coding once decoded, and digests of it. A strong ETag becomes weak (RFC 9110 8.8.1: the content
 * is equivalent, not byte-identical), as servers do when they compress.
 */
const ABOUT_THE_BYTES = new Set(['content-length', 'content-md5', 'digest', 'content-digest']);

/**
 * A rewritten body the upstream announced at up to this many bytes is sent whole, once rewritten,
 * with its new Content-Length: one write with the head instead of a chunked head, a chunk and the
 * last-chunk, which for the usual small JSON answer cost more than the rewriting itself. A body
 * that decodes to more than this is streamed (chunked) from there on.
 */
export const WHOLE_BODY_BYTES = 16 * 1024;

export interface RewriteContext {
  readonly rewrite: LinkRewrite;
  readonly res: ServerResponse;
  /** the answer's status line; the sink writes the head */
  readonly status: number;
  readonly statusText: string;
  /** undici's resume for this response */
  readonly resume: () => void;
  readonly log: Logger;
  readonly dsn: string;
  /** the upstream's origin, named in the problem a body that does not decode gets */
  readonly origin: string;
}

/**
 * The coding of an answer whose body is JSON that tokenshim can decode; undefined for everything
 * else, whose body then passes through as it came, with no per-chunk work at all. A body in a
 * coding node cannot decode (zstd, compress) is left as it is too.
 */
export function rewritableJsonCoding(
  method: string | undefined,
  status: number,
  headers: readonly string[],
): ContentCoding | undefined {
  // HEAD, 204 and 304 have no body; a 206 body is a slice of JSON, not JSON
  if (method === 'HEAD' || status === 204 || status === 304 || status === 206) return undefined;
  let type: string | undefined;
  let encoding: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 12 && name.toLowerCase() === 'content-type') type = headers[i + 1];
    else if (name.length === 16 && name.toLowerCase() === 'content-encoding')
      encoding = headers[i + 1];
  }
  if (type === undefined || !JSON_TYPE.test(type)) return undefined;
  return decodableCoding(encoding);
}

/**
 * The sink a JSON body goes through on its way to the client, its URLs rewritten; `headers` loses
 * the fields a rewritten body invalidates (changed in place). The sink writes the head: at once
 * for a body of unknown or large length, else with the rewritten body (WHOLE_BODY_BYTES).
 */
export function jsonBodyRewrite(
  headers: string[],
  coding: ContentCoding,
  c: RewriteContext,
): BodySink {
  let kept = 0;
  let announced = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === 'content-length') announced = Number(headers[i + 1]);
    if (ABOUT_THE_BYTES.has(lower) || lower === 'content-encoding') continue;
    headers[kept++] = headers[i]!;
    headers[kept++] = lower === 'etag' ? weak(headers[i + 1]!) : headers[i + 1]!;
  }
  headers.length = kept;
  const scanner = new JsonUrlRewriter(c.rewrite);
  const { res } = c;
  const writeHead = (): void => {
    if (c.statusText) res.writeHead(c.status, c.statusText, headers);
    else res.writeHead(c.status, headers);
  };
  /** rewritten bytes not yet written, while the body may still be sent whole */
  let held: Buffer[] | undefined;
  let heldBytes = 0;
  if (announced >= 0 && announced <= WHOLE_BODY_BYTES) held = [];
  else writeHead();
  return new DecodedBody(
    coding,
    {
      push: (bytes) => {
        const out = scanner.push(bytes);
        if (held === undefined) {
          if (out.length > 0) res.write(out);
          return;
        }
        if (out.length === 0) return;
        held.push(out);
        heldBytes += out.length;
        if (heldBytes <= WHOLE_BODY_BYTES) return;
        writeHead();
        for (const piece of held) res.write(piece);
        held = undefined;
      },
      end: () => {
        const last = scanner.end();
        if (held === undefined) return void res.end(last);
        if (last.length > 0) {
          held.push(last);
          heldBytes += last.length;
        }
        headers.push('content-length', String(heldBytes));
        writeHead();
        res.end(held.length === 1 ? held[0] : Buffer.concat(held, heldBytes));
        held = undefined;
      },
      fail: (err) => {
        c.log.warn(
          { dsn: c.dsn, coding, cause: (err as { code?: string }).code ?? err.name },
          held === undefined
            ? 'the upstream sent a JSON body that does not decode as its Content-Encoding says; the answer was cut'
            : 'the upstream sent a JSON body that does not decode as its Content-Encoding says; the client got 502',
        );
        if (held === undefined) return void res.destroy();
        // the head is still unsent (a small body held whole): the client gets a status and a reason
        held = undefined;
        sendProblem(
          res,
          new UpstreamError('bad-body', {
            dsn: c.dsn,
            origin: c.origin,
            why: `sent a JSON body that does not decode as its Content-Encoding (${coding}) says`,
            hint: 'Have the API fixed, or set RewriteBodyUrls=0 to pass its bodies through untouched.',
          }),
        );
      },
    },
    res,
    c.resume,
  );
}

function weak(etag: string): string {
  return etag.startsWith('W/') ? etag : `W/${etag}`;
}
