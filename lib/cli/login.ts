import { loginWithBrowser } from '../auth/login/browser-login.js';
import { openTokenStore } from '../auth/stores/open-token-store.js';
import type { TokenStore } from '../auth/stores/token-store.js';
import type { Clock } from '../clock.js';
import { defineCommand, runCommand } from './command.js';
import { CONFIG_SOURCE_OPTIONS } from './config-source.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { selectDsn } from './select-dsn.js';

export interface LoginCommandDeps {
  /** opens a URL in the person's browser; default: the system browser when one is available */
  readonly openBrowser?: (url: string) => Promise<void>;
  readonly store?: TokenStore;
  readonly clock?: Clock;
}

const DEFAULT_TIMEOUT_SECONDS = 300;

/** `tokenshim login <DSN>`: browser login with PKCE, ending with a stored refresh token. */
export function loginCommand(deps: LoginCommandDeps = {}) {
  return defineCommand({
    name: 'login',
    usage: '<DSN> [--config FILE | --connect STRING] [--no-browser] [--timeout SECONDS]',
    about: `
Logs in to a DSN through the browser (OAuth 2.0 authorization code with PKCE, S256) and stores
the refresh token in the DSN's token store, where the proxy and tokenshim token find it. For
AuthenticationMethod 51, 54 and 56 DSNs with ClientID, AuthURI and TokenURI.

The browser comes back to the DSN's RedirectURI, which must be a loopback address
(http://127.0.0.1:<port>/<path>) registered with the provider; without RedirectURI (or without a
port in it) a free port is used, as providers allow for loopback redirects (RFC 8252).`,
    options: {
      ...CONFIG_SOURCE_OPTIONS,
      'no-browser': {
        type: 'boolean',
        default: false,
        help: 'only print the URL to open (for a browser on another machine, use an SSH\ntunnel to the redirect port)',
      },
      timeout: {
        type: 'string',
        value: 'SECONDS',
        help: `how long to wait for the login (default ${DEFAULT_TIMEOUT_SECONDS})`,
      },
    },
    positional: 'DSN',
    exitStatus: '0 logged in, 1 the login failed or timed out, 2 usage or configuration error.',
    run: ({ values, positionals }, io) => login(positionals[0], values, io, deps),
  });
}

export function runLogin(argv: string[], io: CliIo, deps: LoginCommandDeps = {}): Promise<number> {
  return runCommand(loginCommand(deps), argv, io);
}

async function login(
  name: string | undefined,
  values: { config?: string; connect?: string; 'no-browser': boolean; timeout?: string },
  io: CliIo,
  deps: LoginCommandDeps,
): Promise<number> {
  const timeoutSeconds =
    values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new UsageError(`--timeout takes a number of seconds above 0, not "${values.timeout}"`);
  }
  const { dsn, configPath } = await selectDsn(name, values, io);
  const store = deps.store ?? openTokenStore(dsn, configPath);
  const openBrowser = values['no-browser']
    ? undefined
    : (deps.openBrowser ?? (browserAvailable(io.env) ? openSystemBrowser : undefined));
  try {
    const result = await loginWithBrowser(dsn, {
      store,
      env: io.env,
      ...(deps.clock ? { clock: deps.clock } : {}),
      timeoutMs: timeoutSeconds * 1000,
      openBrowser,
      showUrl: (url, redirectUri) => {
        io.stdout.write(
          `Log in to DSN "${dsn.name}" by opening this URL in a browser${openBrowser ? ' (opening it now)' : ''}:\n\n` +
            `  ${url}\n\n` +
            `Waiting up to ${timeoutSeconds} s for the browser to come back to ${redirectUri} ...\n`,
        );
      },
      onStateMismatch: () =>
        io.stderr.write(
          'tokenshim login: ignored a redirect whose state does not match this login\n',
        ),
    });
    io.stdout.write(
      `Logged in: the refresh token for DSN "${dsn.name}" is stored in ${result.store}` +
        `${result.scope ? ` (scope: ${result.scope})` : ''}.\n` +
        'A running tokenshim picks it up by itself; tokenshim token prints an access token.\n',
    );
    return EXIT.OK;
  } finally {
    if (!deps.store) await store.close().catch(() => undefined);
  }
}

/** A browser can be shown: a desktop session on Linux, always on macOS and Windows. */
export function browserAvailable(env: NodeJS.ProcessEnv, platform = process.platform): boolean {
  if (env['SSH_CONNECTION'] !== undefined && env['DISPLAY'] === undefined) return false;
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env['DISPLAY'] || env['WAYLAND_DISPLAY'] || env['WSL_DISTRO_NAME']);
}

async function openSystemBrowser(url: string): Promise<void> {
  const { default: open } = await import('open');
  const child = await open(url, { wait: false });
  // a browser that cannot start only means the person opens the printed URL by hand
  child.on('error', () => undefined);
  child.unref();
}
