import { ENV } from '../platform/environment-names.js';
import { UsageError } from '../cli/io.js';
import { envValue, pathFor, windowsServiceHome } from '../platform/tokenshim-home.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import type { ServiceHost } from './service-host.js';

/** What `tokenshim service` was asked for, as typed. */
export interface ServiceOptions {
  readonly name?: string | undefined;
  readonly config?: string | undefined;
  readonly port?: number | undefined;
  readonly logFile?: string | undefined;
  readonly logMaxSize?: number | undefined;
  readonly logKeep?: number | undefined;
  readonly account?: string | undefined;
  readonly home?: string | undefined;
  /** systemd: a user unit or a system unit */
  readonly scope?: 'user' | 'system' | undefined;
  /** a WinSW executable to use instead of node-windows' */
  readonly winsw?: string | undefined;
  /** serve's network flags (lib/cli/serve-network.ts), checked by the caller, passed on */
  readonly network?: ServiceNetwork | undefined;
  /** serve's https files (`--tls-cert` and `--tls-key`, or `--tls-pfx`), made absolute */
  readonly tls?: ServiceTls | undefined;
}

export interface ServiceNetwork {
  readonly host: string;
  readonly allowRemote: boolean;
  readonly acceptHosts: readonly string[];
  /** seconds, as typed */
  readonly clientHeadersTimeout?: string | undefined;
  readonly clientIdleTimeout?: string | undefined;
}

export interface ServiceTls {
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly pfx?: string | undefined;
}

/** The service, resolved: absolute paths, the account, the exact `tokenshim serve` command. */
export interface ServiceDefinition {
  readonly name: string;
  readonly description: string;
  readonly node: string;
  readonly entry: string;
  /** arguments after the entry script: `serve --config <abs> ...` */
  readonly serveArgs: readonly string[];
  readonly configPath: string;
  /** TOKENSHIM_HOME of the service (always on Windows; on Linux only when --home is given) */
  readonly home: string | undefined;
  readonly logFile: string | undefined;
  readonly account: string;
  readonly scope: 'user' | 'system';
  /** drain plus margin: how long the service manager waits before it kills */
  readonly stopTimeoutSeconds: number;
  readonly warnings: readonly string[];
}

export const DEFAULT_SERVICE_NAME = 'tokenshim';
/** Windows' built-in service accounts that need no password. */
export const WINDOWS_BUILTIN_ACCOUNTS = Object.freeze([
  'LocalService',
  'NetworkService',
  'LocalSystem',
]);
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;

export function defineService(opts: ServiceOptions, host: ServiceHost): ServiceDefinition {
  const win = host.platform === 'win32';
  const path = pathFor(host.platform);
  const name = opts.name ?? DEFAULT_SERVICE_NAME;
  if (!SERVICE_NAME.test(name)) {
    throw new UsageError(
      `--name ${JSON.stringify(name)} cannot name a service: use letters, digits, ".", "_" and "-" (at most 80)`,
    );
  }
  const configPath = locateServiceConfig(opts.config, host);
  const warnings: string[] = [];
  const home = opts.home
    ? path.resolve(host.cwd, opts.home)
    : win
      ? windowsServiceHome(host.env)
      : undefined;
  const logFile =
    opts.logFile !== undefined
      ? path.resolve(host.cwd, opts.logFile)
      : win && home !== undefined
        ? path.join(home, 'logs', `${name}.log`)
        : undefined;
  if (logFile === undefined && (opts.logMaxSize ?? opts.logKeep) !== undefined) {
    throw new UsageError('--log-max-size and --log-keep apply to a log file: add --log-file PATH');
  }
  const serveArgs = [
    'serve',
    '--config',
    configPath,
    ...(opts.port === undefined ? [] : ['--port', String(opts.port)]),
    ...(logFile === undefined ? [] : ['--log-file', logFile]),
    ...(opts.logMaxSize === undefined ? [] : ['--log-max-size', String(opts.logMaxSize)]),
    ...(opts.logKeep === undefined ? [] : ['--log-keep', String(opts.logKeep)]),
    ...networkFlags(opts.network),
    ...tlsFlags(opts.tls, (file) => path.resolve(host.cwd, file)),
  ];
  const https = opts.tls?.pfx !== undefined || opts.tls?.cert !== undefined;
  if (https && envValue(host.env, ENV.TLS_PASSPHRASE, host.platform) !== undefined) {
    warnings.push(
      `warning: the service does not get $${ENV.TLS_PASSPHRASE} (tokenshim never writes a secret into a service definition): give it a key without a passphrase, readable only by its account, or set the variable for the service yourself.`,
    );
  }
  const scope = win ? 'system' : (opts.scope ?? (host.isRoot ? 'system' : 'user'));
  const account = win ? windowsAccount(opts.account) : (opts.account ?? host.username);
  if (win) warnings.push(...windowsReadability(host, account, configPath, home));
  else if (scope === 'system' && account === 'root') {
    warnings.push(
      'warning: the service would run as root. Pass --account USER (a user that can read the config and write its token store).',
    );
  }
  const port = opts.port ?? PROXY_DEFAULTS.port;
  return {
    name,
    description: `tokenshim: OAuth tokens for the DSNs in ${configPath} on ${https ? 'https' : 'http'}://${opts.network?.host ?? PROXY_DEFAULTS.host}:${port}`,
    node: host.execPath,
    entry: host.entryScript,
    serveArgs,
    configPath,
    home,
    logFile,
    account,
    scope,
    stopTimeoutSeconds: PROXY_DEFAULTS.drainMs / 1000 + 10,
    warnings,
  };
}

/** `--config`, else what serve would find ($TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini), absolute. */
function locateServiceConfig(config: string | undefined, host: ServiceHost): string {
  const path = pathFor(host.platform);
  const named =
    config ??
    envValue(host.env, ENV.CONFIG, host.platform) ??
    envValue(host.env, 'ODBCINI', host.platform) ??
    'odbc.ini';
  return path.resolve(host.cwd, named);
}

/**
 * LocalService by default: the least a service account can be, with no password to keep. A
 * group managed service account (DOMAIN\name$) needs none either. Any other account has a
 * password, which would have to be written into the service XML: set it afterwards in
 * services.msc (Log On) or with sc.exe instead.
 */
function windowsAccount(account: string | undefined): string {
  if (account === undefined) return 'LocalService';
  const builtin = WINDOWS_BUILTIN_ACCOUNTS.find((a) => a.toLowerCase() === account.toLowerCase());
  if (builtin) return builtin;
  if (/^[^\\\s]+\\[^\\\s]+\$$/.test(account)) return account;
  throw new UsageError(
    `--account ${account}: use LocalService (default), NetworkService, LocalSystem or a group managed ` +
      'service account (DOMAIN\\name$). For an account with a password, install with the default and ' +
      `set it in services.msc (Log On tab) or with sc.exe config <name> obj= "${account}" password= ...: ` +
      'tokenshim does not write passwords into the service definition.',
  );
}

/**
 * A service account cannot read another user's profile: an npm global install of an
 * administrator (%APPDATA%\npm) or an nvm-windows node is invisible to LocalService.
 */
function windowsReadability(
  host: ServiceHost,
  account: string,
  configPath: string,
  home: string | undefined,
): string[] {
  const warnings: string[] = [];
  const underProfile = (p: string): boolean => /^[a-z]:\\users\\/i.test(p);
  for (const [what, p] of [
    ['node.exe', host.execPath],
    ['tokenshim', host.entryScript],
    ['the config', configPath],
  ] as const) {
    if (underProfile(p) && account !== 'LocalSystem') {
      warnings.push(
        `warning: ${what} is under a user profile (${p}), which ${account} cannot read. Install Node ` +
          'from the MSI and tokenshim with npm install -g --prefix "C:\\Program Files\\tokenshim", and keep ' +
          `the config in ${home ?? '%ProgramData%\\tokenshim'}.`,
      );
    }
  }
  const inHome = (dir: string, h: string): boolean =>
    dir.toLowerCase() === h.toLowerCase() || dir.toLowerCase().startsWith(`${h.toLowerCase()}\\`);
  if (home !== undefined && !inHome(pathFor('win32').dirname(configPath), home)) {
    warnings.push(
      `note: the token store is kept next to the config (${configPath}.tokens.json): ${account} must be able ` +
        `to write in ${pathFor('win32').dirname(configPath)}, or set TokenStore to a file in ${home}.`,
    );
  }
  return warnings;
}

/** `--host`, `--allow-remote`, `--accept-host` and the client timeouts, when not the defaults. */
function networkFlags(network: ServiceNetwork | undefined): string[] {
  if (network === undefined) return [];
  return [
    ...(network.host === PROXY_DEFAULTS.host ? [] : ['--host', network.host]),
    ...(network.allowRemote ? ['--allow-remote'] : []),
    ...network.acceptHosts.flatMap((name) => ['--accept-host', name]),
    ...(network.clientHeadersTimeout === undefined
      ? []
      : ['--client-headers-timeout', network.clientHeadersTimeout]),
    ...(network.clientIdleTimeout === undefined
      ? []
      : ['--client-idle-timeout', network.clientIdleTimeout]),
  ];
}

/** The https files, absolute: the service starts in another directory. */
function tlsFlags(tls: ServiceTls | undefined, absolute: (file: string) => string): string[] {
  if (tls === undefined) return [];
  const flags: string[] = [];
  for (const [flag, file] of [
    ['--tls-cert', tls.cert],
    ['--tls-key', tls.key],
    ['--tls-pfx', tls.pfx],
  ] as const) {
    if (file !== undefined) flags.push(flag, absolute(file));
  }
  return flags;
}
