import type { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import type { DsnConfig } from '../config/dsn.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { ConfigError, TokenshimError } from '../errors.js';
import { createCredentialProvider } from '../auth/provider.js';
import { createLogger } from '../log/logger.js';
import { LOG_FILE_DEFAULTS } from '../log/rotating-log-file.js';
import { openServeLogOutput } from '../log/serve-log-output.js';
import { createProxyInstrumentation } from '../metrics/proxy-instrumentation.js';
import { watchSignals } from '../platform/process-signals.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import { isLoopbackHost, startServer, type TokenshimServer } from '../proxy/server.js';
import { EXIT, UsageError, wholeNumberOption, type CliIo } from './io.js';

export const SERVE_HELP = `Usage: tokenshim serve [--config FILE | --connect STRING] [options]

Runs the proxy: http://${PROXY_DEFAULTS.host}:${PROXY_DEFAULTS.port}/<DSN>/<path> goes to the DSN's HostName with a fresh
credential attached; clients using it as their HTTP proxy (http_proxy for curl and wget,
HTTP_PROXY for most others) get the same for the DSNs' origins.
SIGTERM and SIGINT (Ctrl+C) drain in-flight requests and exit; SIGHUP reloads the configuration.
On Windows, Ctrl+C, Ctrl+Break (SIGBREAK), closing the console and a service stop drain and exit,
and \`tokenshim reload\` re-reads the configuration.

Options:
  --config FILE         odbc.ini to read (default: $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini, ~/.odbc.ini)
  --connect STRING      one DSN as an ODBC connection string instead of a file
  --port N              port to listen on (default ${PROXY_DEFAULTS.port}; 0 picks a free one)
  --host ADDRESS        address to listen on (default ${PROXY_DEFAULTS.host})
  --allow-remote        allow a --host other machines can reach (they can use every DSN's credentials)
  --log-level LEVEL     trace, debug, info (default), warn, error, silent
  --log-file PATH       write the log to PATH (JSON lines, redacted) instead of stderr, rotated by size
  --log-max-size BYTES  rotate the log file at this size (default ${LOG_FILE_DEFAULTS.maxBytes}, 10 MB)
  --log-keep N          rotated log files kept: PATH's name with .1 (newest) to .N (default ${LOG_FILE_DEFAULTS.keep})
  --drain-seconds N     how long shutdown waits for in-flight requests (default ${PROXY_DEFAULTS.drainMs / 1000})
  --ca-dir DIR          the local CA for InterceptTLS (default $TOKENSHIM_HOME/ca, ~/.tokenshim/ca)
  -h, --help            show this help

Exit status: 0 after a clean shutdown, 1 on a runtime failure, 2 for usage or configuration errors.
`;

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export interface ServeIo extends CliIo {
  /** where SIGTERM, SIGINT, SIGBREAK and SIGHUP come from; default the process (tests pass an emitter) */
  readonly signals?: EventEmitter;
  /** which signals stop and which reload (lib/platform/process-signals.ts); default process.platform */
  readonly platform?: NodeJS.Platform;
  /** called once the proxy listens (tests use it to find the port) */
  readonly onListening?: (server: TokenshimServer) => void;
}

/** `tokenshim serve`: resolves with the exit code once the proxy has shut down. */
export async function runServe(argv: string[], io: ServeIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      connect: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      'log-file': { type: 'string' },
      'log-max-size': { type: 'string' },
      'log-keep': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'ca-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(SERVE_HELP);
    return EXIT.OK;
  }
  if (values.config !== undefined && values.connect !== undefined) {
    throw new UsageError('--config and --connect cannot be used together: pick one source');
  }
  const port =
    values.port === undefined
      ? PROXY_DEFAULTS.port
      : wholeNumberOption('--port', values.port, 0, 65535);
  const drainMs =
    values['drain-seconds'] === undefined
      ? PROXY_DEFAULTS.drainMs
      : wholeNumberOption('--drain-seconds', values['drain-seconds'], 0, 3600) * 1000;
  const level = values['log-level'];
  if (!LOG_LEVELS.has(level)) {
    throw new UsageError(
      `--log-level ${level} is not a level: use one of ${[...LOG_LEVELS].join(', ')}`,
    );
  }
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
  const host = values.host ?? PROXY_DEFAULTS.host;
  if (!isLoopbackHost(host) && !values['allow-remote']) {
    throw new UsageError(
      `--host ${host} lets other machines use every DSN's credentials; add --allow-remote if that is intended`,
    );
  }

  const loadOptions: LoadOptions = {
    ...(values.config === undefined ? {} : { configPath: values.config }),
    ...(values.connect === undefined ? {} : { connect: values.connect }),
    env: io.env,
    cwd: io.cwd,
  };
  const loaded = await loadConfig(loadOptions);
  if (loaded.problems.length > 0)
    io.stderr.write(`${loaded.problems.map(formatProblem).join('\n')}\n`);
  if (hasErrors(loaded.problems)) {
    io.stderr.write('tokenshim serve: fix the configuration errors above and start again\n');
    return EXIT.USAGE;
  }

  // a rotating file (--log-file), pretty lines on a terminal, else gathered JSON lines on stderr
  const logOut = openServeLogOutput(logFile, io);
  const logger = createLogger({ level, destination: logOut.destination, pretty: logOut.pretty });
  // issue 5: metrics, access and token logs, /_tokenshim/ready, /metrics and /status
  const ops = createProxyInstrumentation({ logger });
  const reloadConfig = async (): Promise<DsnConfig[]> => {
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
  };

  // issue 9: CONNECT is decrypted (InterceptTLS) or tunnelled (TunnelOtherHosts) only when a DSN
  // asks for it at startup; otherwise it keeps the 501 that points at the gateway URL.
  const handlesConnect = loaded.dsns.some((d) => d.interceptTls || d.tunnelOtherHosts);
  // Loaded only then: certificate generation (@peculiar/x509) costs memory nobody else needs.
  const createConnectHandler = handlesConnect
    ? await (async () => {
        const { loadCaForInterception } = await import('../tls/ca-store.js');
        const { interceptingConnectHandler } = await import('../proxy/connect.js');
        const ca = await loadCaForInterception(loaded.dsns, {
          env: io.env,
          ...(values['ca-dir'] === undefined ? {} : { dir: values['ca-dir'] }),
          warn: (message) => logger.warn(message),
        });
        return interceptingConnectHandler({ ca, logger });
      })()
    : undefined;

  let server: TokenshimServer;
  try {
    server = await startServer({
      ...(createConnectHandler ? { createConnectHandler } : {}),
      dsns: loaded.dsns,
      host,
      port,
      allowRemote: values['allow-remote'],
      logger,
      ...(loaded.path === undefined ? {} : { configPath: loaded.path }),
      reloadConfig,
      env: io.env,
      observer: ops.observer,
      createProvider: (dsn) =>
        createCredentialProvider(dsn, {
          logger,
          onEvent: ops.onTokenEvent,
          ...(loaded.path === undefined ? {} : { configPath: loaded.path }),
        }),
    });
    ops.attach(server);
  } catch (e) {
    await logOut.close();
    io.stderr.write(`tokenshim serve: ${(e as Error).message}\n`);
    return e instanceof ConfigError ? EXIT.USAGE : EXIT.FAILURE;
  }
  io.stdout.write(describeRoutes(server));
  if (logOut.file !== undefined) io.stdout.write(`  log: ${logOut.file}\n`);
  io.onListening?.(server);
  return waitForShutdown(server, io, drainMs, logger).finally(() => logOut.close());
}

/**
 * One line per DSN with its URL on the proxy, then how to use it as an HTTP proxy: curl and wget
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
      dsn.upstream === undefined ? '(no HostName)' : dsn.upstream.href.replace(/\/$/, '');
    lines.push(`  ${dsn.name.padEnd(width)}  ${routes.join(' and ')} -> ${upstream}`);
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
  logger: ReturnType<typeof createLogger>,
): Promise<number> {
  const signals = io.signals ?? process;
  return new Promise<number>((resolve) => {
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
        () => finish(EXIT.OK),
        (e: unknown) => {
          io.stderr.write(`tokenshim serve: shutdown failed: ${(e as Error).message}\n`);
          finish(EXIT.FAILURE);
        },
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
    const finish = (code: number): void => {
      unwatch();
      resolve(code);
    };
  });
}
