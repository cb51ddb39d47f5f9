import type { BodyCondition } from '../../config/dsn.js';
import { findHeader } from '../../http/raw-headers.js';
import { decodeWhole, type ContentCoding } from './content-decoding.js';
import { rewritableJsonCoding } from './rewritten-body.js';

/**
 * RefreshOnBody: APIs that answer a rejected token with HTTP 200 and an error inside the JSON
 * (Marketo: `{"success":false,"errors":[{"code":"601"}]}` for an invalid token, 602 for an expired
 * one), which no RefreshOnStatus can see. Only small JSON answers are held back and examined:
 * such error bodies are a few hundred bytes, while data pages are large and stream untouched.
 */
export const BODY_INSPECTION = Object.freeze({
  /** an answer with a longer body (or one that grows past this) is passed on without a look */
  maxBytes: 16 * 1024,
});

/**
 * The content coding of a 2xx answer worth examining (JSON that tokenshim can decode, with no
 * Content-Length above BODY_INSPECTION.maxBytes); undefined for everything else, which passes on
 * as it came. `headers` are the answer's as they go to the client (buildResponseHead).
 */
export function inspectableCoding(
  method: string | undefined,
  status: number,
  headers: readonly string[],
): ContentCoding | undefined {
  const coding = rewritableJsonCoding(method, status, headers);
  if (coding === undefined) return undefined;
  const length = findHeader(headers, 'content-length');
  return length !== undefined && Number(length) > BODY_INSPECTION.maxBytes ? undefined : coding;
}

/** An answer held back while its body arrives to be examined: its head and its bytes so far. */
export class HeldAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly rawHeaders: Buffer[];
  /** as they go to the client */
  readonly headers: string[];
  readonly #coding: ContentCoding;
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    status: number,
    statusText: string,
    rawHeaders: Buffer[],
    headers: string[],
    coding: ContentCoding,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.rawHeaders = rawHeaders;
    this.headers = headers;
    this.#coding = coding;
  }

  /** Keeps `chunk`; false once the body is longer than is examined (it is then passed on). */
  add(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    return this.#size <= BODY_INSPECTION.maxBytes;
  }

  /** the bytes held, as they came */
  body(): Buffer {
    return this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
  }

  /** The first of `conditions` the body meets, decoded and read as JSON; undefined for none. */
  rejection(conditions: readonly BodyCondition[]): BodyCondition | undefined {
    const bytes = decodeWhole(this.#coding, this.body(), BODY_INSPECTION.maxBytes * 64);
    if (bytes === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    return conditions.find((c) => meets(json, c));
  }
}

/** `errors.code=601,602` as the README and the log spell it */
export function conditionText(c: BodyCondition): string {
  return `${c.path}=${c.values.join(',')}`;
}

function meets(json: unknown, condition: BodyCondition): boolean {
  for (const value of valuesAt(json, condition.path)) {
    if (typeof value === 'string' && condition.values.includes(value)) return true;
    if (
      (typeof value === 'number' || typeof value === 'boolean') &&
      condition.values.includes(String(value))
    )
      return true;
  }
  return false;
}

/**
 * The values at a dotted path, looking into every element of the arrays met on the way. A key may
 * itself hold dots (as paging paths allow): at each object, the whole rest of the path and each
 * dotted prefix of it are tried as keys.
 */
function* valuesAt(node: unknown, path: string): Generator<unknown> {
  if (Array.isArray(node)) {
    for (const element of node) yield* valuesAt(element, path);
    return;
  }
  if (path === '') {
    yield node;
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const object = node as Record<string, unknown>;
  if (Object.hasOwn(object, path)) yield* valuesAt(object[path], '');
  for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1)) {
    const key = path.slice(0, dot);
    if (Object.hasOwn(object, key)) yield* valuesAt(object[key], path.slice(dot + 1));
  }
}
