/**
 * Talking to TokenURI: build the request (pure), send it (undici), read the answer (pure). The
 * pure halves are tested without sockets; the grants and the token manager only see `TokenSet`s
 * and `TokenEndpointError`s.
 */
// the decoder alone: jose's index loads its signing, encryption and key modules (~10 MB of RSS)
import { decodeJwt } from 'jose/jwt/decode';
import { request, type Dispatcher } from 'undici';
import type { TokenEndpoint, TokenParams } from '../config/dsn.js';
import { USER_PLACEHOLDER } from '../config/values/token-params.js';
import { TokenEndpointError, TokenshimError } from '../errors.js';
import { parseRetryAfter } from '../http/retry-after.js';
import { osError } from '../os-errors.js';
import type { ClientAuth, TokenRequestParts } from './client-auth.js';
import { isTerminalOAuthError, oauthErrorHint } from './oauth-error-advice.js';
import { scrubSecretsInText } from '../log/scrub-text.js';
import { redactSecrets } from './redact-secrets.js';

export interface TokenRequestInput {
  readonly endpoint: TokenEndpoint;
  readonly format: 'form' | 'json' | 'query';
  /** the grant's own parameters (grant_type first); nothing overrides them */
  readonly grant: readonly (readonly [string, string])[];
  /** sent on every request, refresh included */
  readonly scope?: string | undefined;
  readonly tokenParams?: TokenParams | undefined;
  readonly clientAuth: ClientAuth;
  /** replaces `{user}` in TokenParams (per-user tokens) */
  readonly user?: string | undefined;
}

export interface TokenRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * The HTTP request for one token grant. DataDirect's rule: GET unless TokenURI starts with `POST `,
 * and for GET every parameter travels in the query string.
 */
export function buildTokenRequest(input: TokenRequestInput): TokenRequest {
  const parts: TokenRequestParts = {
    headers: { accept: 'application/json', 'user-agent': 'tokenshim' },
    query: [],
    body: new Map<string, unknown>(input.grant),
  };
  if (input.scope && !parts.body.has('scope')) parts.body.set('scope', input.scope);
  const added = new Set<string>();
  for (const [name, value] of tokenParamEntries(input.tokenParams, input.user)) {
    if (added.has(name)) {
      // a repeated pair (RFC 8707 `resource=a&resource=b`) travels repeated
      const previous = parts.body.get(name);
      parts.body.set(name, [...(Array.isArray(previous) ? previous : [previous]), value]);
    } else if (!parts.body.has(name)) {
      // merged, never overriding: a TokenParams `grant_type=` must not turn a refresh into another grant
      parts.body.set(name, value);
      added.add(name);
    }
  }
  input.clientAuth(parts);

  const url = new URL(input.endpoint.url);
  for (const [name, value] of parts.query) url.searchParams.append(name, value);
  if (input.endpoint.method === 'GET') {
    appendAll(url.searchParams, parts.body);
    return { method: 'GET', url, headers: parts.headers };
  }
  if (input.format === 'query') {
    // TokenRequestFormat=query: Zoho Accounts and GitHub document a POST whose parameters all
    // travel in the query string, with no body
    appendAll(url.searchParams, parts.body);
    return { method: 'POST', url, headers: parts.headers };
  }
  if (input.format === 'json') {
    return {
      method: 'POST',
      url,
      headers: { ...parts.headers, 'content-type': 'application/json' },
      body: JSON.stringify(Object.fromEntries(parts.body)),
    };
  }
  const form = new URLSearchParams();
  appendAll(form, parts.body);
  return {
    method: 'POST',
    url,
    headers: { ...parts.headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  };
}

function tokenParamEntries(
  params: TokenParams | undefined,
  user: string | undefined,
): [string, unknown][] {
  if (!params) return [];
  const entries: [string, unknown][] =
    params.kind === 'form' ? params.pairs.map(([k, v]) => [k, v]) : Object.entries(params.object);
  return entries.map(([k, v]) => [k, substituteUser(v, user)]);
}

function substituteUser(value: unknown, user: string | undefined): unknown {
  if (typeof value === 'string')
    return user === undefined ? value : value.split(USER_PLACEHOLDER).join(user);
  if (Array.isArray(value)) return value.map((v) => substituteUser(v, user));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteUser(v, user)]));
  }
  return value;
}

/** Form and query serialisation: an array value becomes repeated pairs, objects become JSON. */
function appendAll(target: URLSearchParams, params: ReadonlyMap<string, unknown>): void {
  for (const [name, value] of params) {
    for (const one of Array.isArray(value) ? value : [value]) target.append(name, asText(one));
  }
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The token endpoint's answer, as read off the wire. */
export interface RawTokenResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export type LifetimeSource = 'expires_in' | 'expires_at' | 'jwt_exp' | 'default';

/** A successful token response, with its expiry resolved. */
export interface TokenSet {
  readonly accessToken: string;
  /** `Bearer` for any spelling of bearer, else the server's token_type */
  readonly tokenType: string;
  /** epoch ms */
  readonly expiresAt: number;
  /** epoch ms: when the request that produced it was sent (expiry counts from here) */
  readonly obtainedAt: number;
  readonly lifetimeSource: LifetimeSource;
  /** a new refresh token, which replaces the old one */
  readonly refreshToken?: string;
  readonly scope?: string;
}

export interface ParseContext {
  readonly dsn: string;
  readonly endpoint: TokenEndpoint;
  /** epoch ms when the request was sent */
  readonly sentAt: number;
  readonly defaultLifetimeSeconds: number;
  /** values to blank out of any text quoted in an error */
  readonly secrets?: readonly string[];
}

const QUOTE_LIMIT = 160;

/** Reads a token response or throws a TokenEndpointError that says what the server said. */
export function parseTokenResponse(res: RawTokenResponse, ctx: ParseContext): TokenSet {
  // the server's words, without the secrets it was sent, nor tokens it may have issued
  const redact = (text: string): string =>
    scrubSecretsInText(redactSecrets(text, ctx.secrets ?? []));
  // a TokenURI from ${env:} or the like is among the secrets: the message names it blanked
  const where = redact(describeEndpoint(ctx.endpoint));
  const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'), ctx.sentAt);
  const contentType = header(res.headers, 'content-type') ?? 'no content type';

  let json: unknown;
  try {
    json = res.body.trim() === '' ? undefined : JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  const object =
    json !== null && typeof json === 'object' && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  // a JSON body is quoted as parsed: no escape (`\/`, `\u002f`) hides a secret from redaction
  const quoted = (): string =>
    quoteFirstLine(redact(json === undefined ? res.body : JSON.stringify(json)));

  if (object && typeof object['error'] === 'string') {
    const error = redact(object['error']);
    const description =
      typeof object['error_description'] === 'string'
        ? redact(object['error_description'])
        : undefined;
    const terminal = isTerminalOAuthError(error, res.status);
    return fail(
      `DSN "${ctx.dsn}": the token endpoint (${where}) answered ${res.status} ${error}` +
        (description ? ` ("${description}")` : '') +
        `. ${oauthErrorHint(error, res.status)}`,
      { error, ...(description === undefined ? {} : { errorDescription: description }), terminal },
    );
  }

  const okStatus = res.status >= 200 && res.status < 300;
  if (
    okStatus &&
    object &&
    typeof object['access_token'] === 'string' &&
    object['access_token'] !== ''
  ) {
    return tokenSetFrom(object as Record<string, unknown> & { access_token: string }, ctx);
  }

  if (res.status >= 500 || res.status === 429) {
    return fail(
      `DSN "${ctx.dsn}": the token endpoint (${where}) is unavailable (HTTP ${res.status}` +
        `${quoted()}).`,
      {},
    );
  }
  if (okStatus && object) {
    return fail(
      `DSN "${ctx.dsn}": the token endpoint (${where}) answered ${res.status} with JSON that has no ` +
        `access_token (keys: ${Object.keys(object).slice(0, 10).join(', ') || 'none'}). ` +
        'Check TokenURI: it should name the OAuth token endpoint.',
      {},
    );
  }
  const form = okStatus ? formKeys(res.body, contentType) : undefined;
  return fail(
    `DSN "${ctx.dsn}": the token endpoint (${where}) answered ${res.status} with ${contentType}, ` +
      // a successful form-encoded answer holds live tokens: its keys say enough
      (form === undefined ? `not a token${quoted()}` : `not a JSON token (keys: ${form})`) +
      '. Check TokenURI (and the POST prefix, DataDirect sends GET without it).',
    {},
  );

  function fail(
    message: string,
    o: { error?: string; errorDescription?: string; terminal?: boolean },
  ): never {
    throw new TokenEndpointError(message, {
      dsn: ctx.dsn,
      httpStatus: res.status,
      ...o,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

function tokenSetFrom(
  body: Record<string, unknown> & { access_token: string },
  ctx: ParseContext,
): TokenSet {
  const rawType = typeof body['token_type'] === 'string' ? body['token_type'] : '';
  // RFC 6749 7.1: token_type is case-insensitive; upstream APIs want the canonical `Bearer`
  const tokenType = rawType === '' || rawType.toLowerCase() === 'bearer' ? 'Bearer' : rawType;
  const { expiresAt, source } = resolveExpiry(body, ctx);
  const refreshToken =
    typeof body['refresh_token'] === 'string' && body['refresh_token'] !== ''
      ? body['refresh_token']
      : undefined;
  const scope = typeof body['scope'] === 'string' ? body['scope'] : undefined;
  return {
    accessToken: body.access_token,
    tokenType,
    expiresAt,
    obtainedAt: ctx.sentAt,
    lifetimeSource: source,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(scope === undefined ? {} : { scope }),
  };
}

/** expires_in (number or numeric string), else Qlik's expires_at, else the JWT's exp, else the default. */
function resolveExpiry(
  body: Record<string, unknown>,
  ctx: ParseContext,
): { expiresAt: number; source: LifetimeSource } {
  const expiresIn = positiveNumber(body['expires_in']);
  if (expiresIn !== undefined)
    return { expiresAt: ctx.sentAt + expiresIn * 1000, source: 'expires_in' };

  const at = body['expires_at'];
  const expiresAt =
    typeof at === 'string'
      ? Date.parse(at)
      : typeof at === 'number'
        ? at > 1e12
          ? at
          : at * 1000
        : NaN;
  if (Number.isFinite(expiresAt) && expiresAt > ctx.sentAt)
    return { expiresAt, source: 'expires_at' };

  const token = body['access_token'];
  if (typeof token === 'string' && token.split('.').length === 3) {
    try {
      const { exp } = decodeJwt(token);
      if (typeof exp === 'number' && exp * 1000 > ctx.sentAt)
        return { expiresAt: exp * 1000, source: 'jwt_exp' };
    } catch {
      // not a JWT after all: an opaque token that happens to contain two dots
    }
  }
  return { expiresAt: ctx.sentAt + ctx.defaultLifetimeSeconds * 1000, source: 'default' };
}

function positiveNumber(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : NaN;
  // expires_in 0 would mean "refresh before every request": treat it as "not said"
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** `POST https://host/path`: never the query string, which may hold a client secret. */
export function describeEndpoint(endpoint: TokenEndpoint): string {
  return `${endpoint.method} ${endpoint.url.origin}${endpoint.url.pathname}`;
}

/** The parameter names of a form-encoded body (`access_token=...&scope=...`), else undefined. */
function formKeys(body: string, contentType: string): string | undefined {
  const text = body.trim();
  const looksLikeForm = /^[\w.-]+=[^&\s]*(?:&[\w.-]+=[^&\s]*)*$/.test(text);
  if (!looksLikeForm && !contentType.includes('x-www-form-urlencoded')) return undefined;
  const names = [...new URLSearchParams(text).keys()];
  return names.slice(0, 10).join(', ') || 'none';
}

function quoteFirstLine(body: string): string {
  const line = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined) return ', empty body';
  const cut = line.length > QUOTE_LIMIT ? `${line.slice(0, QUOTE_LIMIT)}...` : line;
  return `: "${cut}"`;
}

function header(headers: RawTokenResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface SendOptions {
  readonly dispatcher: Dispatcher;
  readonly dsn: string;
  /** what the endpoint is, in errors; default `the token endpoint` */
  readonly endpointName?: string;
  readonly signal?: AbortSignal;
  /** per-request overrides; the dispatcher's (lib/net/dsn-dispatcher.ts) apply otherwise */
  readonly headersTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
}

/** A token response larger than this is not a token response. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Sends a token request; network failures become TokenEndpointErrors without an httpStatus. */
export async function sendTokenRequest(
  req: TokenRequest,
  opts: SendOptions,
): Promise<RawTokenResponse> {
  const where = `${req.method} ${req.url.origin}${req.url.pathname}`;
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      dispatcher: opts.dispatcher,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.headersTimeoutMs === undefined ? {} : { headersTimeout: opts.headersTimeoutMs }),
      ...(opts.bodyTimeoutMs === undefined ? {} : { bodyTimeout: opts.bodyTimeoutMs }),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        res.body.destroy();
        break;
      }
      chunks.push(chunk as Buffer);
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
  } catch (e) {
    // a caller that stopped waiting says why in the abort reason
    if (opts.signal?.aborted && opts.signal.reason instanceof TokenshimError) {
      throw opts.signal.reason;
    }
    const local = osError(e, { action: `reach the token endpoint (${where})`, dsn: opts.dsn });
    if (local) throw local;
    const code = (e as { code?: string }).code ?? (e as Error).name;
    const why = (e as { cause?: { code?: string } }).cause?.code ?? code;
    // an alert is the server refusing us (typically a client certificate it requires, RFC 8705);
    // other certificate errors are ours refusing the server
    const tls = /^ERR_SSL_.*ALERT/.test(why)
      ? '. The server refused the TLS handshake: it may require a client certificate ' +
        '(ClientCertificate) or not accept the one presented'
      : /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(why)
        ? '. Its certificate is not trusted: put the CA that signed it in TrustStore (a PEM file), ' +
          'or set ValidateServerCertificate=0 for a test server'
        : '';
    // undici: "Proxy response (407) !== 200 when HTTP Tunneling"; the proxy URL is never quoted
    const proxyStatus = /^Proxy response \((\d+)\)/.exec((e as Error).message ?? '')?.[1];
    const proxy =
      proxyStatus === undefined
        ? ''
        : `. The outbound proxy answered ${proxyStatus} instead of opening a tunnel: check ProxyHost, ` +
          "ProxyPort, ProxyUser and ProxyPassword, or HTTPS_PROXY, HTTP_PROXY and NO_PROXY in tokenshim's environment";
    throw new TokenEndpointError(
      `DSN "${opts.dsn}": cannot reach ${opts.endpointName ?? 'the token endpoint'} (${where}): ${why}${tls}${proxy}.`,
      {
        dsn: opts.dsn,
        cause: e,
      },
    );
  }
}
