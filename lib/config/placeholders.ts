import type { DsnConfig } from './dsn.js';
import type { ConfigProblem } from './problems.js';

/**
 * Values that were copied from an example and never filled in: `your-client-id`,
 * `<client secret>`, `...`, `changeme`, and hosts under the names reserved for documentation
 * (RFC 2606: example.com, example.org, example.net, .example), which no real API uses, and the
 * Marketo instance id of odbc.ini.example (123-ABC-456).
 */
const PLACEHOLDER_VALUE =
  /(?:^|[^a-z0-9])your[-_ ]|<[^>]*>|^\.\.\.$|^(?:changeme|change[-_]me|replace[-_]?me|todo|xxx+|placeholder)$|\b123-abc-456\b/i;
const DOCUMENTATION_HOST = /(?:^|\.)example(?:\.(?:com|org|net))?$/i;

const WHERE_FROM: Readonly<Record<string, string>> = {
  ClientID: ' (from the OAuth client registered at the provider)',
  ClientSecret: ' (from the OAuth client registered at the provider)',
  RefreshToken: ', or run tokenshim login <DSN>',
  TokenURI: " (the provider's token endpoint)",
  AuthURI: " (the provider's authorization endpoint)",
  HostName: " (the API's base URL)",
};

/** The options worth looking at, and how to read each from a DsnConfig. */
const CHECKED: readonly [string, (d: DsnConfig) => string | URL | undefined][] = [
  ['ClientID', (d) => d.clientId],
  ['ClientSecret', (d) => d.clientSecret],
  ['RefreshToken', (d) => d.refreshToken],
  ['AccessToken', (d) => d.accessToken],
  ['SecurityToken', (d) => d.securityToken],
  ['OAuthCode', (d) => d.oauthCode],
  ['User', (d) => d.user],
  ['Password', (d) => d.password],
  ['TokenURI', (d) => d.tokenEndpoint?.url],
  ['AuthURI', (d) => d.authUri],
  ['HostName', (d) => d.upstream],
  ['HealthURI', (d) => d.healthUri],
];

/**
 * A warning per option that still holds a placeholder, naming the file, line and key. The value
 * itself is not repeated: it may be a secret after all.
 */
export function placeholderProblems(dsn: DsnConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [option, read] of CHECKED) {
    const value = read(dsn);
    if (value === undefined) continue;
    const found =
      value instanceof URL
        ? DOCUMENTATION_HOST.test(value.hostname)
          ? `a documentation host (${value.hostname})`
          : PLACEHOLDER_VALUE.test(decodeURIComponent(value.href))
            ? 'a placeholder'
            : undefined
        : PLACEHOLDER_VALUE.test(value)
          ? 'a placeholder'
          : undefined;
    if (found === undefined) continue;
    const origin = dsn.origins.get(option);
    problems.push({
      severity: 'warning',
      source: origin?.source ?? 'configuration',
      ...(origin?.line === undefined ? {} : { line: origin.line }),
      dsn: dsn.name,
      key: origin?.key ?? option,
      message: `still holds ${found}, as copied from an example`,
      fix: `put the real ${option} here${WHERE_FROM[option] ?? ''}`,
    });
  }
  return problems;
}
