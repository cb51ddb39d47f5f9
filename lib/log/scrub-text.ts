/**
 * Secrets inside free text: a URL's `access_token=...` (Marketo and other GET token endpoints put
 * tokens and client secrets in query strings), an `Authorization: Bearer ...` quoted in an error,
 * a refresh token echoed in a JSON error body. pino's `redact` only blanks whole fields by path;
 * this catches the same secrets inside strings. A second line of defence: nothing should put a
 * secret in a log line in the first place.
 */
const SECRET_PARAMS =
  'access_token|refresh_token|id_token|client_secret|client_assertion|assertion|code_verifier|code|' +
  'password|passwd|pwd|token|api_key|apikey|api-key|secret|securitytoken|security_token|sig|signature|x-amz-signature';

const SECRET_PARAM_NAME = new RegExp(`^(?:${SECRET_PARAMS})$`, 'i');

/** A query or form parameter whose value is a credential (`client_secret`, `access_token`...). */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM_NAME.test(name);
}

/** `name=value` in a query string or form body */
const QUERY_PARAM = new RegExp(`([?&;\\s"']|^)(${SECRET_PARAMS})=([^&\\s"'#;]+)`, 'gi');
/** `"name": "value"` in JSON */
const JSON_FIELD = new RegExp(
  `("(?:${SECRET_PARAMS}|accessToken|refreshToken|clientSecret)"\\s*:\\s*")([^"]+)(")`,
  'gi',
);
/** an HTTP credential: `Bearer abc`, `Basic dXNlcjpwYXNz` */
const AUTH_SCHEME = /\b(Bearer|Basic|Digest)\s+[A-Za-z0-9\-._~+/=]{8,}/g;

export const REDACTED = '[redacted]';

export function scrubSecretsInText(text: string): string {
  if (!text.includes('=') && !text.includes('"') && !/Bearer|Basic|Digest/.test(text)) return text;
  return text
    .replace(QUERY_PARAM, (_, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(
      JSON_FIELD,
      (_, open: string, _v: string, close: string) => `${open}${REDACTED}${close}`,
    )
    .replace(AUTH_SCHEME, (_, scheme: string) => `${scheme} ${REDACTED}`);
}

/** A log record with every string scrubbed (nested objects and arrays too, to a bounded depth). */
export function scrubRecord<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return scrubSecretsInText(value) as T;
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubRecord(v, depth + 1)) as T;
  if (value instanceof Error) return scrubError(value, depth) as T;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const s = scrubRecord(v, depth + 1);
    if (s !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = s;
    }
  }
  return (out ?? value) as T;
}

/**
 * The same error (same class, so pino's err serializer names its type), with message and stack
 * scrubbed: an error may quote a URL.
 */
function scrubError(err: Error, depth: number): Error {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, err);
  Object.defineProperty(copy, 'message', {
    value: scrubSecretsInText(err.message),
    enumerable: false,
  });
  if (err.stack !== undefined) {
    Object.defineProperty(copy, 'stack', {
      value: scrubSecretsInText(err.stack),
      enumerable: false,
    });
  }
  if (err.cause !== undefined) {
    Object.defineProperty(copy, 'cause', {
      value: scrubRecord(err.cause, depth + 1),
      enumerable: false,
    });
  }
  return copy;
}

/**
 * The access log's path: query parameter names kept, every value dropped. What was asked for
 * stays readable (`/leads.json?filterType&filterValues&access_token`), no value is kept.
 */
export function pathWithoutQueryValues(target: string): string {
  const q = target.indexOf('?');
  if (q === -1) return target;
  const names: string[] = [];
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    // a name is not secret, but cut it short: a client could put a token where a name goes
    names.push(name.length > 64 ? `${name.slice(0, 64)}...` : name);
  }
  return names.length === 0 ? target.slice(0, q) : `${target.slice(0, q)}?${names.join('&')}`;
}
