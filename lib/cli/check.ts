import { redactSecrets } from '../auth/redact-secrets.js';
import { maskSecret, type DsnConfig } from '../config/dsn.js';
import { formatPagingSettings } from '../config/paging-option.js';
import { loadConfig } from '../config/load.js';
import { placeholderProblems } from '../config/placeholders.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { secretOptionsOf } from '../config/secrets.js';
import { ConfigError } from '../errors.js';
import { checkOnline, formatOnlineResults } from './check-online.js';
import { defineCommand, runCommand } from './command.js';
import { CONFIG_SOURCE_OPTIONS, configSource } from './config-source.js';
import { EXIT, type CliIo } from './io.js';

const CLIENT_AUTH_MODES = ['HTTP Basic', 'HTTP Basic', 'URL query parameters', 'POST body'];
const TOKEN_REQUEST_FORMATS: Record<DsnConfig['tokenRequestFormat'], string> = {
  form: 'form-encoded parameters',
  json: 'JSON body',
  query: 'parameters in the URL query',
};

/** `tokenshim check`: validate the configuration, then (unless --offline) try each DSN for real. */
export const checkCommand = defineCommand({
  name: 'check',
  usage: '[--config FILE | --connect STRING] [--offline]',
  about: `
Validates the configuration and prints each DSN: its method, token endpoint, upstream and
client-auth mode, with secrets masked, and every problem found. Then, unless --offline, fetches
one token per DSN and reports it as ok or with the server's error, calls HealthURI (when set)
with the credential, and says whether each OAuth DSN's token store is reachable.`,
  options: {
    ...CONFIG_SOURCE_OPTIONS,
    offline: {
      type: 'boolean',
      default: false,
      help: 'only validate; do not contact token endpoints',
    },
  },
  exitStatus:
    '0 valid (and every DSN got a token), 1 a DSN failed the online check,\n2 configuration errors.',
  run: async ({ values }, io) => {
    const loaded = await loadConfig(configSource(values, io));
    const out: string[] = [];
    out.push(
      `config: ${loaded.label ?? loaded.path ?? (values.connect !== undefined ? 'connection string' : 'none')}`,
    );
    for (const dsn of loaded.dsns) out.push('', ...describeDsn(dsn));
    io.stdout.write(`${out.join('\n')}\n`);
    // values copied from odbc.ini.example and never filled in pass validation but cannot work
    const placeholders = loaded.dsns.flatMap(placeholderProblems);
    const problems = [...loaded.problems, ...placeholders];
    if (problems.length > 0) {
      io.stderr.write(`${problems.map(formatProblem).join('\n')}\n`);
    }
    if (hasErrors(problems)) {
      const errors = problems.filter((p) => p.severity === 'error');
      throw new ConfigError(
        `${errors.length} error(s) above: fix them and run tokenshim check again`,
        errors,
      );
    }
    io.stdout.write(
      placeholders.length > 0
        ? `\n${loaded.dsns.length} DSN(s) valid, but ${placeholders.length} value(s) are still placeholders (above): fill them in before serving\n`
        : `\nok: ${loaded.dsns.length} DSN(s) valid\n`,
    );
    // without --offline, one real token request per DSN, HealthURI and the token store
    if (values.offline || loaded.dsns.length === 0) return EXIT.OK;
    const results = await checkOnline(loaded.dsns, { configPath: loaded.path, env: io.env });
    io.stdout.write(`\nonline:\n${formatOnlineResults(results).join('\n')}\n`);
    const failed = results.filter((r) => !r.ok).length;
    io.stdout.write(
      failed === 0
        ? `\nok: every DSN got a token\n`
        : `\n${failed} DSN(s) failed the online check\n`,
    );
    // the results above are the report; the exit status only sums them up
    return failed === 0 ? EXIT.OK : EXIT.FAILURE;
  },
});

export function runCheck(argv: string[], io: CliIo): Promise<number> {
  return runCommand(checkCommand, argv, io);
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
  if (dsn.paging !== undefined)
    lines.push(
      `  paging:      ${formatPagingSettings(dsn.paging)} (GET requests are joined when a style is set)`,
    );
  if (!dsn.rewriteBodyUrls)
    lines.push('  body URLs:   passed as the API wrote them (RewriteBodyUrls=0)');
  const shown = secretOptionsOf(dsn).map((s) => `${s.option}=${maskSecret(s.value)}`);
  if (shown.length > 0) lines.push(`  secrets:     ${shown.join(' ')}`);
  // a value from ${env:}, ${file:} or ${dpapi:} is a secret whatever its option (a HostName too)
  return lines.map((line) => redactSecrets(line, dsn.referencedSecrets ?? []));
}
