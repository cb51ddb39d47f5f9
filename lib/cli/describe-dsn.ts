import { describeTokenRequest } from '../auth/describe-token-request.js';
import { redactSecrets } from '../auth/redact-secrets.js';
import { maskSecret, type DsnConfig } from '../config/dsn.js';
import { maskedUrl } from '../config/masked-url.js';
import { formatPagingSettings } from '../config/paging-option.js';
import { secretOptionsOf } from '../config/secrets.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import { dsnPath } from '../proxy/routing/url-parts.js';

export interface DescribeOptions {
  /** where serve listens, for the DSN's gateway URL (default http://127.0.0.1:8790) */
  readonly gateway?: string;
}

const DEFAULT_GATEWAY = `http://${PROXY_DEFAULTS.host}:${PROXY_DEFAULTS.port}`;
const INDENT = ' '.repeat(15);

/** Header names whose values a Model file may hold credentials in: shown masked. */
const CREDENTIAL_HEADER = /auth|key|token|secret|password|signature|cookie/i;

/**
 * What `tokenshim check` prints for one DSN: the URL to call, where it goes, how its tokens are
 * requested, and what every upstream request carries, with secrets masked. A value that came from
 * `${env:}`, `${file:}` or `${dpapi:}` is a secret whatever its option (a HostName too): it is
 * blanked out of every line.
 */
export function describeDsn(dsn: DsnConfig, opts: DescribeOptions = {}): string[] {
  const m = dsn.method;
  const eff = dsn.effectiveMethod;
  const lines = [
    `[${dsn.name}]`,
    `  url:         ${urlLine(dsn, opts.gateway ?? DEFAULT_GATEWAY)}`,
    `  method:      ${m.code} ${m.name}${eff !== m ? ` -> ${eff.code} ${eff.name}` : ''}`,
    ...upstreamLines(dsn),
    ...tokenRequestLines(dsn),
    ...labelled('sends:', sentLines(dsn)),
  ];
  if (dsn.clientCertificate)
    lines.push(`  client cert: ${dsn.clientCertificate.file} (to every server that asks for one)`);
  if (dsn.paging !== undefined)
    lines.push(
      `  paging:      ${formatPagingSettings(dsn.paging)} (GET requests are joined when a style is set)`,
    );
  if (!dsn.rewriteBodyUrls)
    lines.push('  body URLs:   passed as the API wrote them (RewriteBodyUrls=0)');
  const shown = secretOptionsOf(dsn).map((s) => `${s.option}=${maskSecret(s.value)}`);
  if (shown.length > 0) lines.push(`  secrets:     ${shown.join(' ')}`);
  const references = [...dsn.origins]
    .filter(([, origin]) => origin.reference !== undefined)
    .map(([option, origin]) => `${option}=${origin.reference}`);
  if (references.length > 0) lines.push(`  references:  ${references.join(' ')}`);
  return lines.map((line) => redactSecrets(line, dsn.referencedSecrets ?? []));
}

/** The gateway URL, percent-encoded as a client must send it, and the dedicated port's. */
function urlLine(dsn: DsnConfig, gateway: string): string {
  const url = `${gateway}${dsnPath(dsn.name)}/`;
  if (dsn.listenPort === undefined) return url;
  const host = new URL(gateway).hostname;
  return `${url} and http://${host}:${dsn.listenPort}/ (ListenPort)`;
}

function upstreamLines(dsn: DsnConfig): string[] {
  const model = dsn.modelFile;
  const upstream = dsn.upstream;
  const lines = [
    `  upstream:    ${upstream === undefined ? '-' : maskedUrl(upstream)}${model?.givesUpstream ? ' (from the Model file)' : ''}`,
  ];
  const others = dsn.credentialOrigins
    .filter((o) => o !== upstream?.origin)
    .map((o) => `${o} (${model?.origins.includes(o) ? 'Model file' : 'AllowedHosts'})`);
  if (others.length > 0) lines.push(`  also allowed: ${others.join(', ')}`);
  if (model) {
    lines.push(`  model file:  ${model.path}`);
    if (model.supplied.length > 0)
      lines.push(`${INDENT}supplies ${model.supplied.join(', ')} (the DSN leaves them out)`);
    for (const { key, why } of model.ignored) lines.push(`${INDENT}not used: ${key}: ${why}`);
  }
  return lines;
}

function tokenRequestLines(dsn: DsnConfig): string[] {
  const shape = describeTokenRequest(dsn);
  if (!dsn.tokenEndpoint || !shape) return [];
  const refresh = dsn.refreshTokenEndpoint;
  const lines = [
    `  token:       ${dsn.tokenEndpoint.method} ${maskedUrl(dsn.tokenEndpoint.url)}`,
    ...(refresh
      ? [`  refresh:     ${refresh.method} ${maskedUrl(refresh.url)} (RefreshTokenURI)`]
      : []),
    `  grant:       ${dsn.grantType ?? '-'}, ${shape.parameters}`,
    `  client auth: ${shape.clientAuth}`,
  ];
  if (dsn.scope !== undefined) lines.push(`  scope:       ${dsn.scope}`);
  return lines;
}

/** Each header (or query parameter) an upstream request carries, and what it holds. */
function sentLines(dsn: DsnConfig): string[] {
  const lines: string[] = [];
  const credential = credentialLine(dsn);
  if (credential !== undefined) lines.push(credential);
  for (const h of dsn.upstreamHeaders) {
    const value =
      h.from === 'SecurityToken' || CREDENTIAL_HEADER.test(h.name) ? maskSecret(h.value) : h.value;
    lines.push(`${h.name}: ${value} (${h.from})`);
  }
  return lines;
}

function credentialLine(dsn: DsnConfig): string | undefined {
  const m = dsn.effectiveMethod;
  const secret = (value: string | undefined, option: string): string =>
    `${maskSecret(value ?? '')} (${option})`;
  switch (m.kind === 'oauth' ? 'oauth' : m.code) {
    case 'oauth': {
      const scheme = dsn.tokenScheme ?? 'token type, e.g. Bearer';
      return placed(dsn, '<access token from TokenURI>', scheme);
    }
    case 50:
      return placed(dsn, secret(dsn.accessToken, 'AccessToken'), dsn.tokenScheme ?? 'Bearer');
    case 34:
      return placed(dsn, secret(dsn.securityToken, 'SecurityToken'), dsn.tokenScheme ?? 'Bearer');
    case 25:
      return `${dsn.authHeader ?? 'Authorization'}: ${secret(dsn.securityToken, 'SecurityToken')}`;
    case 14:
      return `query parameter ${dsn.authParam}=${secret(dsn.securityToken, 'SecurityToken')}`;
    case 0:
      return `${dsn.authHeader ?? 'Authorization'}: Basic <User:Password> (User=${dsn.user ?? ''})`;
    default:
      return undefined;
  }
}

/** TokenPlacement: `Authorization: Bearer <token>`, `X-Token: <token>`, `query parameter x=<token>` */
function placed(dsn: DsnConfig, token: string, scheme: string): string {
  const p = dsn.tokenPlacement;
  if (p.kind === 'query') return `query parameter ${p.name}=${token}`;
  const withScheme = p.scheme || dsn.tokenScheme !== undefined;
  return `${p.name}: ${withScheme ? `${scheme} ` : ''}${token}`;
}

/** The first line after the label, the others under it. */
function labelled(label: string, values: readonly string[]): string[] {
  return values.map((v, i) => (i === 0 ? `  ${label.padEnd(13)}${v}` : `${INDENT}${v}`));
}
