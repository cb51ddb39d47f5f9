import { appendCorsHeaders, isCorsResponseHeader } from '../cors.js';
import { scopeSetCookie } from './cookie-scope.js';
import { HOP_BY_HOP_RESPONSE, connectionListedNames, withoutListed } from './hop-by-hop.js';
import { rewriteLinkHeader, rewriteUrl, type LinkRewrite } from './link-rewrite.js';

/**
 * One pass over the upstream's raw response headers: hop-by-hop fields (and any named in
 * Connection) go, as do the upstream's CORS fields (tokenshim states its own for `corsOrigin`, an
 * AllowedOrigins origin: lib/proxy/cors.ts); Location, Content-Location and Link are pointed back
 * at the client's route, and Set-Cookie is scoped to it (cookie-scope.ts); a CSP sandbox is added.
 * Values are decoded as latin1 so every byte goes back out unchanged (node writes latin1).
 * Returns the flat `[name, value, ...]` list ServerResponse#writeHead takes.
 */
export function buildResponseHead(
  raw: readonly (Buffer | string)[],
  rewrite: () => LinkRewrite,
  corsOrigin?: string,
): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i]!;
    const known = typeof field === 'string' ? undefined : knownName(field);
    const name = known === undefined ? text(field) : known.name;
    const lower = known === undefined ? name.toLowerCase() : known.lower;
    if (HOP_BY_HOP_RESPONSE.has(lower)) {
      if (lower === 'connection') connection = text(raw[i + 1]!);
      continue;
    }
    if (isCorsResponseHeader(lower)) continue;
    let value = text(raw[i + 1]!);
    if (lower === 'location' || lower === 'content-location') value = rewriteUrl(value, rewrite());
    else if (lower === 'link') value = rewriteLinkHeader(value, rewrite());
    else if (lower === 'set-cookie') value = scopeSetCookie(value, rewrite());
    out.push(name, value);
  }
  const listed = connectionListedNames(connection);
  const kept = listed === undefined ? out : withoutListed(out, listed);
  if (corsOrigin !== undefined) appendCorsHeaders(kept, corsOrigin);
  kept.push('content-security-policy', DOCUMENT_SANDBOX);
  return kept;
}

/**
 * Every answer tokenshim passes on is served from its own origin (or, through the forward proxy,
 * the API's), where a page's fetch() counts as same-origin and gets the DSN's credential. An HTML
 * or SVG answer (an attachment a CRM user uploaded, an API's error page) opened in a browser
 * would run its scripts there. CSP `sandbox` (without allow-scripts or allow-same-origin) renders
 * such a document with no scripts, in an opaque origin; clients that are not browsers ignore it.
 */
const DOCUMENT_SANDBOX = 'sandbox';

function text(b: Buffer | string): string {
  return typeof b === 'string' ? b : b.toString('latin1');
}

interface KnownName {
  readonly name: string;
  readonly lower: string;
}

/**
 * Field names most APIs answer with, in the spellings servers send: lower case (node, HTTP/2
 * gateways), canonical case (Go, Java, .NET) and a few others (nginx's ETag). A Buffer's toString
 * is a call into C++ of about 100 ns however short the name; comparing its bytes with these in
 * JavaScript costs a fraction of that, and gives the very string toString would.
 */
const KNOWN_NAMES = [
  'accept-ranges',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'age',
  'cache-control',
  'connection',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-security-policy',
  'content-type',
  'date',
  'etag',
  'expires',
  'keep-alive',
  'last-modified',
  'link',
  'location',
  'pragma',
  'retry-after',
  'server',
  'set-cookie',
  'strict-transport-security',
  'transfer-encoding',
  'vary',
  'www-authenticate',
  'x-content-type-options',
  'x-frame-options',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'x-request-id',
  'x-xss-protection',
];
const OTHER_SPELLINGS = ['ETag', 'WWW-Authenticate', 'X-Request-ID', 'X-XSS-Protection'];

/** known names by length, for a match without decoding */
const KNOWN_BY_LENGTH: KnownName[][] = [];
for (const lower of KNOWN_NAMES) {
  const canonical = lower.replace(
    /(^|-)([a-z])/g,
    (_, dash: string, c: string) => dash + c.toUpperCase(),
  );
  for (const name of new Set([lower, canonical])) addKnown(name, lower);
}
for (const name of OTHER_SPELLINGS) addKnown(name, name.toLowerCase());

function addKnown(name: string, lower: string): void {
  (KNOWN_BY_LENGTH[name.length] ??= []).push({ name, lower });
}

function knownName(b: Buffer): KnownName | undefined {
  const candidates = KNOWN_BY_LENGTH[b.length];
  if (candidates === undefined) return undefined;
  for (let k = 0; k < candidates.length; k++) {
    const candidate = candidates[k]!;
    const name = candidate.name;
    let i = 0;
    while (i < name.length && b[i] === name.charCodeAt(i)) i++;
    if (i === name.length) return candidate;
  }
  return undefined;
}
