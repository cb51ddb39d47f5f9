import { parseArgs } from 'node:util';
import { OPTIONS } from '../config/catalogue.js';
import { maskSecret, type DsnConfig } from '../config/dsn.js';
import { loadConfig } from '../config/load.js';
import { placeholderProblems } from '../config/placeholders.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { checkOnline, formatOnlineResults } from './check-online.js';
import { EXIT, type CliIo } from './io.js';

export const CHECK_HELP = `Usage: tokenshim check [--config FILE | --connect STRING] [--offline]

Validates the configuration and prints each DSN: its method, token endpoint, upstream and
client-auth mode, with secrets masked, and every problem found. Then, unless --offline, fetches
one token per DSN and reports it as ok or with the server's error, calls HealthURI (when set)
with the credential, and says whether each OAuth DSN's token store is reachable.

Options:
  --config FILE      odbc.ini to read (default: $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini, ~/.odbc.ini)
  --connect STRING   one DSN as an ODBC connection string instead of a file
  --offline          only validate; do not contact token endpoints
  -h, --help         show this help

Exit status: 0 valid (and every DSN got a token), 1 a DSN failed the online check,
2 configuration errors.
`;

const CLIENT_AUTH_MODES = ['HTTP Basic', 'HTTP Basic', 'URL query parameters', 'POST body'];
const TOKEN_REQUEST_FORMATS: Record<DsnConfig['tokenRequestFormat'], string> = {
  form: 'form-encoded parameters',
  json: 'JSON body',
  query: 'parameters in the URL query',
};

export async function runCheck(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      connect: { type: 'string' },
      offline: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(CHECK_HELP);
    return EXIT.OK;
  }
  const loaded = await loadConfig({
    ...(values.config === undefined ? {} : { configPath: values.config }),
    ...(values.connect === undefined ? {} : { connect: values.connect }),
    env: io.env,
    cwd: io.cwd,
  });
  const out: string[] = [];
  out.push(
    `config: ${loaded.path ?? (values.connect !== undefined ? 'connection string' : 'none')}`,
  );
  for (const dsn of loaded.dsns) out.push('', ...describeDsn(dsn));
  io.stdout.write(`${out.join('\n')}\n`);
  // values copied from odbc.ini.example and never filled in pass validation but cannot work
  const placeholders = loaded.dsns.flatMap(placeholderProblems);
  const problems = [...loaded.problems, ...placeholders];
  if (problems.length > 0) {
    io.stderr.write(`${problems.map(formatProblem).join('\n')}\n`);
  }
  const bad = hasErrors(problems);
  io.stdout.write(
    bad
      ? `\n${problems.filter((p) => p.severity === 'error').length} error(s): fix them and run tokenshim check again\n`
      : placeholders.length > 0
        ? `\n${loaded.dsns.length} DSN(s) valid, but ${placeholders.length} value(s) are still placeholders (above): fill them in before serving\n`
        : `\nok: ${loaded.dsns.length} DSN(s) valid\n`,
  );
  if (bad) return EXIT.USAGE;
  // issue 5: without --offline, one real token request per DSN, HealthURI and the token store
  if (!values.offline && loaded.dsns.length > 0) {
    const results = await checkOnline(loaded.dsns, { configPath: loaded.path, env: io.env });
    io.stdout.write(`\nonline:\n${formatOnlineResults(results).join('\n')}\n`);
    const failed = results.filter((r) => !r.ok).length;
    io.stdout.write(
      failed === 0
        ? `\nok: every DSN got a token\n`
        : `\n${failed} DSN(s) failed the online check\n`,
    );
    return failed === 0 ? EXIT.OK : EXIT.FAILURE;
  }
  return EXIT.OK;
}

export function describeDsn(dsn: DsnConfig): string[] {
  const m = dsn.method;
  const eff = dsn.effectiveMethod;
  const lines = [
    `[${dsn.name}]`,
    `  method:      ${m.code} ${m.name}${eff !== m ? ` -> ${eff.code} ${eff.name}` : ''}`,
    `  upstream:    ${dsn.upstream?.href ?? '-'}`,
  ];
  if (dsn.tokenEndpoint) {
    lines.push(`  token:       ${dsn.tokenEndpoint.method} ${dsn.tokenEndpoint.url.href}`);
    lines.push(`  grant:       ${dsn.grantType ?? '-'}`);
    lines.push(
      `  client auth: ${dsn.clientCredentialsMode} (${CLIENT_AUTH_MODES[dsn.clientCredentialsMode]}), ${TOKEN_REQUEST_FORMATS[dsn.tokenRequestFormat]}`,
    );
  }
  const placement =
    dsn.tokenPlacement.kind === 'query'
      ? `query parameter ${dsn.tokenPlacement.name}`
      : `header ${dsn.tokenPlacement.name}${dsn.tokenPlacement.scheme ? ` (${dsn.tokenScheme ?? 'token type, e.g. Bearer'} <token>)` : ''}`;
  if (eff.kind === 'oauth') lines.push(`  token goes:  ${placement}`);
  if (dsn.listenPort !== undefined) lines.push(`  listen port: ${dsn.listenPort}`);
  const shown: string[] = [];
  for (const o of OPTIONS) {
    const origin = dsn.origins.get(o.name);
    if (!origin || o.ignored) continue;
    if (o.type === 'secret') {
      const value = secretValue(dsn, o.name);
      if (value !== undefined) shown.push(`${o.name}=${maskSecret(value)}`);
    }
  }
  if (shown.length > 0) lines.push(`  secrets:     ${shown.join(' ')}`);
  return lines;
}

function secretValue(dsn: DsnConfig, option: string): string | undefined {
  switch (option) {
    case 'ClientSecret':
      return dsn.clientSecret;
    case 'RefreshToken':
      return dsn.refreshToken;
    case 'AccessToken':
      return dsn.accessToken;
    case 'OAuthCode':
      return dsn.oauthCode;
    case 'SecurityToken':
      return dsn.securityToken;
    case 'Password':
      return dsn.password;
    case 'ProxyPassword':
      return dsn.outboundProxy?.password;
    case 'AdminKey':
      return dsn.adminKey;
    default:
      return undefined;
  }
}
