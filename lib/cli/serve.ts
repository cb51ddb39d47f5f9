import type { EventEmitter } from 'node:events';
import type { DsnConfig } from '../config/dsn.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { formatProblem, hasErrors } from '../config/problems.js';
import { startTokenshim } from '../app/start-tokenshim.js';
import { ConfigError, TokenshimError } from '../errors.js';
import { openLogDestination } from '../log/destination.js';
import { createLogger, type Logger } from '../log/logger.js';
import { isLoopbackHost } from '../net/loopback.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import type { TokenshimServer } from '../proxy/server.js';
import { defineCommand, runCommand, type CommandOptions, type CommandValues } from './command.js';
import { CONFIG_SOURCE_OPTIONS, configSource } from './config-source.js';
import { EXIT, UsageError, type CliIo } from './io.js';

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export interface ServeIo extends CliIo {
  /** where SIGTERM, SIGINT and SIGHUP come from; default the process (tests pass an emitter) */
  readonly signals?: EventEmitter;
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
  host: {
    type: 'string',
    value: 'ADDRESS',
    help: `address to listen on (default ${PROXY_DEFAULTS.host})`,
  },
  'allow-remote': {
    type: 'boolean',
    default: false,
    help: "allow a --host other machines can reach (they can use every DSN's credentials)",
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    default: 'info',
    help: 'trace, debug, info (default), warn, error, silent',
  },
  'drain-seconds': {
    type: 'string',
    value: 'N',
    help: `how long shutdown waits for in-flight requests (default ${PROXY_DEFAULTS.drainMs / 1000})`,
  },
  'ca-dir': {
    type: 'string',
    value: 'DIR',
    help: 'the local CA for InterceptTLS (default $TOKENSHIM_HOME/ca, ~/.tokenshim/ca)',
  },
} as const satisfies CommandOptions;

/** `tokenshim serve`: resolves with the exit code once the proxy has shut down. */
export function serveCommand(seams: Pick<ServeIo, 'signals' | 'onListening'> = {}) {
  return defineCommand({
    name: 'serve',
    usage: '[--config FILE | --connect STRING] [options]',
    about: `
Runs the proxy: http://127.0.0.1:8790/<DSN>/<path> goes to the DSN's HostName with a fresh
credential attached; clients with HTTP_PROXY=http://127.0.0.1:8790 get the same for the DSNs'
origins. SIGTERM/SIGINT drain in-flight requests and exit; SIGHUP reloads the configuration.`,
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
      : integerOption('--port', values.port, 0, 65535);
  const drainMs =
    values['drain-seconds'] === undefined
      ? PROXY_DEFAULTS.drainMs
      : integerOption('--drain-seconds', values['drain-seconds'], 0, 3600) * 1000;
  const level = values['log-level'];
  if (!LOG_LEVELS.has(level)) {
    throw new UsageError(
      `--log-level ${level} is not a level: use one of ${[...LOG_LEVELS].join(', ')}`,
    );
  }
  const host = values.host ?? PROXY_DEFAULTS.host;
  if (!isLoopbackHost(host) && !values['allow-remote']) {
    throw new UsageError(
      `--host ${host} lets other machines use every DSN's credentials; add --allow-remote if that is intended`,
    );
  }

  const loadOptions = configSource(values, io);
  const loaded = await loadConfig(loadOptions);
  if (loaded.problems.length > 0)
    io.stderr.write(`${loaded.problems.map(formatProblem).join('\n')}\n`);
  if (hasErrors(loaded.problems)) {
    throw new ConfigError(
      'fix the configuration errors above and start again',
      loaded.problems.filter((p) => p.severity === 'error'),
    );
  }

  // pretty lines when a person watches the log in a terminal, JSON otherwise
  const pretty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  // JSON lines to a file or pipe are gathered and written together (lib/log/destination.ts)
  const logOut = pretty ? undefined : openLogDestination(io.stderr);
  const logger = createLogger({ level, destination: logOut?.destination ?? io.stderr, pretty });

  let server: TokenshimServer;
  try {
    server = await startTokenshim({
      dsns: loaded.dsns,
      host,
      port,
      allowRemote: values['allow-remote'],
      logger,
      ...(loaded.path === undefined ? {} : { configPath: loaded.path }),
      reloadConfig: () => reloadConfig(loadOptions, logger),
      env: io.env,
      ...(values['ca-dir'] === undefined ? {} : { caDir: values['ca-dir'] }),
    });
  } catch (e) {
    logOut?.close();
    throw e;
  }
  io.stdout.write(describeRoutes(server));
  io.onListening?.(server);
  return waitForShutdown(server, io, drainMs, logger).finally(() => logOut?.close());
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

/** One line per DSN with its URL on the proxy, then how to use it as HTTP_PROXY. */
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
    lines.push(`  as an HTTP proxy: HTTP_PROXY=${server.url} (http:// URLs of the DSNs' origins)`);
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
    const reload = (): void => {
      server.reload().then(
        (result) => logger.info(result, 'SIGHUP: configuration reloaded'),
        (e: unknown) =>
          logger.error(
            { code: e instanceof TokenshimError ? e.code : undefined },
            `SIGHUP: reload failed: ${(e as Error).message}`,
          ),
      );
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
    signals.on('SIGHUP', reload);
    const finish = (settle: () => void): void => {
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      signals.off('SIGHUP', reload);
      settle();
    };
  });
}

function integerOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${name} ${value} is not a whole number from ${min} to ${max}`);
  }
  return n;
}
