import { loadConfig } from '../config/load.js';
import { placeholderProblems } from '../config/placeholders.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { ConfigError } from '../errors.js';
import { checkOnline, formatOnlineResults } from './check-online.js';
import { defineCommand, runCommand } from './command.js';
import { CONFIG_SOURCE_OPTIONS, configSource } from './config-source.js';
import { describeDsn } from './describe-dsn.js';
import { EXIT, type CliIo } from './io.js';
import { SERVE_PORT_OPTION, servePort } from './serve-port.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';

/** `tokenshim check`: validate the configuration, then (unless --offline) try each DSN for real. */
export const checkCommand = defineCommand({
  name: 'check',
  usage: '[--config FILE | --connect STRING] [--offline] [--port N]',
  about: `
Validates the configuration and prints each DSN: the URL to call, its method, upstream, token
requests and client authentication, and what each upstream request carries, with secrets masked,
and every problem found. Then, unless --offline, fetches
one token per DSN and reports it as ok or with the server's error, calls HealthURI (when set)
with the credential, and says whether each OAuth DSN's token store is reachable.`,
  options: {
    ...CONFIG_SOURCE_OPTIONS,
    offline: {
      type: 'boolean',
      default: false,
      help: 'only validate; do not contact token endpoints',
    },
    // the URLs check prints are the ones a serve on that port answers
    ...SERVE_PORT_OPTION,
  },
  exitStatus:
    '0 valid (and every DSN got a token), 1 a DSN failed the online check,\n2 configuration errors.',
  run: async ({ values }, io) => {
    const gateway = `http://${PROXY_DEFAULTS.host}:${servePort(values.port)}`;
    const loaded = await loadConfig(await configSource(values, io));
    const out: string[] = [];
    out.push(
      `config: ${loaded.label ?? loaded.path ?? (values.connect !== undefined ? 'connection string' : 'none')}`,
    );
    for (const dsn of loaded.dsns) out.push('', ...describeDsn(dsn, { gateway }));
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
