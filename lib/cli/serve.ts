import type { EventEmitter } from 'node:events';
import { redactSecrets } from '../auth/redact-secrets.js';
import type { DsnConfig } from '../config/dsn.js';
import { maskedUrl } from '../config/masked-url.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { startTokenshim } from '../app/start-tokenshim.js';
import { ConfigError, TokenshimError } from '../errors.js';
import { LOG_FILE_DEFAULTS } from '../log/rotating-log-file.js';
import { openServeLogOutput } from '../log/serve-log-output.js';
import { watchSignals } from '../platform/process-signals.js';
import { createLogger, type Logger } from '../log/logger.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import type { TokenshimServer } from '../proxy/server.js';
import { defineCommand, runCommand, type CommandOptions, type CommandValues } from './command.js';
import { CONFIG_SOURCE_OPTIONS, configSource } from './config-source.js';
import { EXIT, UsageError, wholeNumberOption, type CliIo } from './io.js';
import { SERVE_NETWORK_OPTIONS, networkSettings } from './serve-network.js';
import { SERVE_TLS_OPTIONS, serveTls } from './serve-tls.js';

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export interface ServeIo extends CliIo {
  /** where SIGTERM, SIGINT, SIGBREAK and SIGHUP come from; default the process (tests pass an emitter) */
  readonly signals?: EventEmitter;
  /** which signals stop and which reload (lib/platform/process-signals.ts); default process.platform */
  readonly platform?: NodeJS.Platform;
  /** called once the proxy listens (tests use it to find the port) */
  readonly onListening?: (server: TokenshimServer) => void;
}

const SERVE_OPTIONS = {
  ...CONFIG_SOURCE_OPTIONS,
  port: {
    type: 'string',
    value: 'N',
    help: `port to listen on (default ${PROXY_DEFAULTS.port}; 0 picks a free one)`,
  },
  ...SERVE_NETWORK_OPTIONS,
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    default: 'info',
    help: 'trace, debug, info (default), warn, error, silent',
  },
  'log-file': {
    type: 'string',
    value: 'PATH',
    help: 'write the log to PATH (JSON lines, redacted) instead of stderr, rotated by size',
  },
  'log-max-size': {
    type: 'string',
    value: 'BYTES',
    help: `rotate the log file at this size (default ${LOG_FILE_DEFAULTS.maxBytes}, 10 MB)`,
  },
  'log-keep': {
    type: 'string',
    value: 'N',
    help: `rotated log files kept: PATH's name with .1 (newest) to .N (default ${LOG_FILE_DEFAULTS.keep})`,
  },
  'drain-seconds': {
    type: 'string',
    value: 'N',
    help: `how long shutdown waits for in-flight requests (default ${PROXY_DEFAULTS.drainMs / 1000})`,
  },
  ...SERVE_TLS_OPTIONS,
  'ca-dir': {
    type: 'string',
    value: 'DIR',
    help: 'the local CA for InterceptTLS (default $TOKENSHIM_HOME/ca, ~/.tokenshim/ca)',
  },
} as const satisfies CommandOptions;

/** `tokenshim serve`: resolves with the exit code once the proxy has shut down. */
export function serveCommand(seams: Pick<ServeIo, 'signals' | 'onListening' | 'platform'> = {}) {
  return defineCommand({
    name: 'serve',
    usage: '[--config FILE | --connect STRING] [options]',
    about: `
Runs the proxy: http://${PROXY_DEFAULTS.host}:${PROXY_DEFAULTS.port}/<DSN>/<path> goes to the DSN's HostName with a fresh
credential attached; clients using it as their HTTP proxy (http_proxy for curl and wget,
HTTP_PROXY for most others) get the same for the DSNs' origins.
SIGTERM and SIGINT (Ctrl+C) drain in-flight requests and exit; SIGHUP reloads the configuration.
On Windows, Ctrl+C, Ctrl+Break (SIGBREAK), closing the console and a service stop drain and exit,
and \`tokenshim reload\` re-reads the configuration.`,
    options: SERVE_OPTIONS,
    exitStatus:
      '0 after a clean shutdown, 1 on a runtime failure, 2 for usage or configuration errors.',
    run: ({ values }, io) => serve(values, { ...io, ...seams }),
  });
}

export function runServe(argv: string[], io: ServeIo): Promise<number> {
  return runCommand(serveCommand(io), argv, io);
}

async function serve(values: CommandValues<typeof SERVE_OPTIONS>, io: ServeIo): Promise<number> {
  const port =
    values.port === undefined
      ? PROXY_DEFAULTS.port
      : wholeNumberOption('--port', values.port, 0, 65535);
  const drainMs =
    values['drain-seconds'] === undefined
      ? PROXY_DEFAULTS.drainMs
      : wholeNumberOption('--drain-seconds', values['drain-seconds'], 0, 3600) * 1000;
  const logFile = {
    file: values['log-file'],
    maxBytes:
      values['log-max-size'] === undefined
        ? undefined
        : wholeNumberOption('--log-max-size', values['log-max-size'], 1024, 2 ** 40),
    keep:
      values['log-keep'] === undefined
        ? undefined
        : wholeNumberOption('--log-keep', values['log-keep'], 1, 1000),
  };
  if (logFile.file === undefined && (logFile.maxBytes ?? logFile.keep) !== undefined) {
    throw new UsageError('--log-max-size and --log-keep apply to a log file: add --log-file PATH');
  }
  const level = values['log-level'];
  if (!LOG_LEVELS.has(level)) {
    throw new UsageError(
      `--log-level ${level} is not a level: use one of ${[...LOG_LEVELS].join(', ')}`,
    );
  }
  const { host, allowRemote, acceptHosts, clientTimeouts } = networkSettings(values);

  const tls = await serveTls(values, io.env);
  const loadOptions = await configSource(values, io);
  const loaded = await loadConfig(loadOptions);
  if (loaded.problems.length > 0)
    io.stderr.write(`${loaded.problems.map(formatProblem).join('\n')}\n`);
  if (hasErrors(loaded.problems)) {
    throw new ConfigError(
      'fix the configuration errors above and start again',
      loaded.problems.filter((p) => p.severity === 'error'),
    );
  }

  // a rotating file (--log-file), pretty lines on a terminal, else gathered JSON lines on stderr
  const logOut = openServeLogOutput(logFile, io);
  const logger = createLogger({ level, destination: logOut.destination, pretty: logOut.pretty });

  let server: TokenshimServer;
  try {
    server = await startTokenshim({
      dsns: loaded.dsns,
      host,
      port,
      allowRemote,
      acceptHosts,
      ...(tls === undefined ? {} : { tls }),
      logger,
      ...(loaded.path === undefined ? {} : { configPath: loaded.path }),
      reloadConfig: () => reloadConfig(loadOptions, logger),
      env: io.env,
      ...(values['ca-dir'] === undefined ? {} : { caDir: values['ca-dir'] }),
      clientTimeouts,
    });
  } catch (e) {
    await logOut.close();
    throw e;
  }
  io.stdout.write(describeRoutes(server));
  if (logOut.file !== undefined) io.stdout.write(`  log: ${logOut.file}\n`);
  io.onListening?.(server);
  return waitForShutdown(server, io, drainMs, logger).finally(() => logOut.close());
}

/** SIGHUP and POST /_tokenshim/reload: the same source again; with errors, the running config stays. */
async function reloadConfig(loadOptions: LoadOptions, logger: Logger): Promise<DsnConfig[]> {
  const again = await loadConfig(loadOptions);
  for (const p of again.problems)
    logger.warn({ problem: formatProblem(p) }, 'configuration problem');
  if (hasErrors(again.problems)) {
    throw new ConfigError(
      `The configuration has errors; the running one stays: ${again.problems
        .filter((p) => p.severity === 'error')
        .map(formatProblem)
        .join('; ')}`,
      again.problems,
    );
  }
  return again.dsns;
}

/**
 * One line per DSN with its URL on the proxy (percent-encoded: `/Marketo%20Prod/`), then how to use it as an HTTP proxy: curl and wget
 * read only the lower-case http_proxy (curl ignores HTTP_PROXY on purpose: in CGI it is a request
 * header), most other clients the upper-case one.
 */
export function describeRoutes(server: TokenshimServer): string {
  const dsns = server.dsns();
  const width = Math.max(0, ...dsns.map((d) => d.name.length));
  const lines = [`tokenshim listening on ${server.url}`];
  for (const dsn of dsns) {
    const routes = [`${server.dsnUrl(dsn.name)}/`];
    const dedicated = server.dedicatedUrl(dsn.name);
    if (dedicated !== undefined) routes.push(`${dedicated}/`);
    const upstream =
      dsn.upstream === undefined ? '(no HostName)' : maskedUrl(dsn.upstream).replace(/\/$/, '');
    // a HostName from ${env:} or the like is a secret wherever it is shown
    const line = `  ${dsn.name.padEnd(width)}  ${routes.join(' and ')} -> ${upstream}`;
    lines.push(redactSecrets(line, dsn.referencedSecrets ?? []));
  }
  if (dsns.length > 0)
    lines.push(
      `  as an HTTP proxy (http:// URLs of the DSNs' origins): http_proxy=${server.url} for curl and wget, HTTP_PROXY=${server.url} for most others`,
    );
  return `${lines.join('\n')}\n`;
}

function waitForShutdown(
  server: TokenshimServer,
  io: ServeIo,
  drainMs: number,
  logger: Logger,
): Promise<number> {
  const signals = io.signals ?? process;
  return new Promise<number>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        // a second Ctrl-C does not wait for the drain
        logger.warn({ signal }, 'second signal: closing now');
        void server.close({ drainMs: 0 });
        return;
      }
      stopping = true;
      logger.info({ signal, inFlight: server.inFlight }, 'shutting down');
      server.close({ drainMs }).then(
        () => finish(() => resolve(EXIT.OK)),
        // reported once, by the command's error reporter
        (e: unknown) => finish(() => reject(e)),
      );
    };
    const reload = (signal: string): void => {
      server.reload().then(
        (result) => logger.info(result, `${signal}: configuration reloaded`),
        (e: unknown) =>
          logger.error(
            { code: e instanceof TokenshimError ? e.code : undefined },
            `${signal}: reload failed: ${(e as Error).message}`,
          ),
      );
    };
    const unwatch = watchSignals(signals, io.platform ?? process.platform, { stop, reload });
    const finish = (settle: () => void): void => {
      unwatch();
      settle();
    };
  });
}
