import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { loginWithBrowser } from '../auth/login/browser-login.js';
import { loginWithDevice } from '../auth/login/device-login.js';
import type { LoginResult } from '../auth/login/login-result.js';
import { describeSeconds } from '../auth/login/login-timeout.js';
import type { LoginTransportDeps } from '../auth/login/login-token-request.js';
import { loginWithPaste } from '../auth/login/paste-login.js';
import { openTokenStore } from '../auth/stores/open-token-store.js';
import type { TokenStore } from '../auth/stores/token-store.js';
import type { Clock } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import { defineCommand, runCommand } from './command.js';
import { CONFIG_SOURCE_OPTIONS } from './config-source.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { selectDsn } from './select-dsn.js';

export interface LoginCommandDeps {
  /** opens a URL in the person's browser; default: the system browser when one is available */
  readonly openBrowser?: (url: string) => Promise<void>;
  readonly store?: TokenStore;
  readonly clock?: Clock;
  /** where --paste reads the pasted address; default process.stdin */
  readonly stdin?: Readable;
}

/** How long each flow waits by default: a code pasted from another machine takes longer. */
const DEFAULT_TIMEOUT_SECONDS = { browser: 300, paste: 600 } as const;

type LoginFlow = 'browser' | 'paste' | 'device';

/** `tokenshim login <DSN>`: a person's login, ending with a stored refresh token. */
export function loginCommand(deps: LoginCommandDeps = {}) {
  return defineCommand({
    name: 'login',
    usage:
      '<DSN> [--config FILE | --connect STRING] [--paste | --device] [--no-browser] [--timeout SECONDS]',
    about: `
Logs in to a DSN and stores the refresh token in the DSN's token store, where the proxy and
tokenshim token find it (a running proxy picks it up by itself). For AuthenticationMethod 51, 54
and 56 DSNs with ClientID and TokenURI, and AuthURI or DeviceAuthURI. Three ways:

  (default)  the browser on this machine: authorization code with PKCE (S256), back to the
             DSN's RedirectURI, a loopback address (http://127.0.0.1:<port>/<path>) registered
             with the provider; without one (or without a port) a free port (RFC 8252).
  --paste    a browser on any machine (a headless server): open the printed URL there, log in,
             and paste back the address the browser ends at (or the code). State and PKCE are
             checked as above; the redirect_uri is RedirectURI, else http://127.0.0.1/callback.
  --device   the device authorization grant (RFC 8628, DeviceAuthURI): enter the printed code at
             the provider's page on any device. The default when DeviceAuthURI is set and
             AuthURI is not.`,
    options: {
      ...CONFIG_SOURCE_OPTIONS,
      paste: {
        type: 'boolean',
        default: false,
        help: 'log in in a browser elsewhere and paste the redirected address here',
      },
      device: {
        type: 'boolean',
        default: false,
        help: 'log in with a device code (RFC 8628, needs DeviceAuthURI)',
      },
      'no-browser': {
        type: 'boolean',
        default: false,
        help: 'only print the URL to open (for a browser on another machine, use --paste,\nor an SSH tunnel to the redirect port)',
      },
      timeout: {
        type: 'string',
        value: 'SECONDS',
        help: `how long to wait for the login (default ${DEFAULT_TIMEOUT_SECONDS.browser}, ${DEFAULT_TIMEOUT_SECONDS.paste} with --paste,\nthe device code's lifetime with --device)`,
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

interface LoginValues {
  readonly config?: string | undefined;
  readonly connect?: string | undefined;
  readonly paste: boolean;
  readonly device: boolean;
  readonly 'no-browser': boolean;
  readonly timeout?: string | undefined;
}

async function login(
  name: string | undefined,
  values: LoginValues,
  io: CliIo,
  deps: LoginCommandDeps,
): Promise<number> {
  if (values.paste && values.device) {
    throw new UsageError('--paste and --device are two ways to log in: choose one');
  }
  const timeoutSeconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutSeconds !== undefined && !(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) {
    throw new UsageError(`--timeout takes a number of seconds above 0, not "${values.timeout}"`);
  }
  const { dsn, configPath } = await selectDsn(name, values, io);
  const flow: LoginFlow = values.paste
    ? 'paste'
    : values.device || (dsn.deviceAuthUri !== undefined && dsn.authUri === undefined)
      ? 'device'
      : 'browser';
  const store = deps.store ?? openTokenStore(dsn, configPath);
  try {
    const result = await runFlow(flow, dsn, { values, io, deps, store, timeoutSeconds });
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

interface FlowContext {
  readonly values: LoginValues;
  readonly io: CliIo;
  readonly deps: LoginCommandDeps;
  readonly store: TokenStore;
  readonly timeoutSeconds: number | undefined;
}

/** What every flow gets: the store, and the environment and clock its requests use. */
interface CommonDeps extends LoginTransportDeps {
  readonly store: TokenStore;
}

function runFlow(flow: LoginFlow, dsn: DsnConfig, ctx: FlowContext): Promise<LoginResult> {
  const { io, deps, store } = ctx;
  const common: CommonDeps = { store, env: io.env, ...(deps.clock ? { clock: deps.clock } : {}) };
  switch (flow) {
    case 'browser':
      return browserLogin(dsn, ctx, common);
    case 'paste':
      return pasteLogin(dsn, ctx, common);
    case 'device':
      return deviceLogin(dsn, ctx, common);
  }
}

function deviceLogin(
  dsn: DsnConfig,
  { io, timeoutSeconds }: FlowContext,
  common: CommonDeps,
): Promise<LoginResult> {
  return loginWithDevice(dsn, {
    ...common,
    ...(timeoutSeconds === undefined ? {} : { timeoutMs: timeoutSeconds * 1000 }),
    showCode: (prompt) => {
      io.stdout.write(
        `To log in to DSN "${dsn.name}", open ${prompt.verificationUri} on any device and enter the code\n\n` +
          `  ${prompt.userCode}\n\n` +
          (prompt.verificationUriComplete
            ? `(or open ${prompt.verificationUriComplete}, which has the code filled in).\n`
            : '') +
          `Waiting up to ${describeWait(timeoutSeconds, prompt.expiresInSeconds)} for the login ...\n`,
      );
    },
    onPollFailed: (message, nextPollInMs) =>
      io.stderr.write(
        `tokenshim login: ${message} Trying again in ${Math.round(nextPollInMs / 1000)} s.\n`,
      ),
  });
}

function browserLogin(
  dsn: DsnConfig,
  { values, io, deps, timeoutSeconds }: FlowContext,
  common: CommonDeps,
): Promise<LoginResult> {
  const seconds = timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS.browser;
  const openBrowser = values['no-browser']
    ? undefined
    : (deps.openBrowser ?? (browserAvailable(io.env) ? openSystemBrowser : undefined));
  return loginWithBrowser(dsn, {
    ...common,
    timeoutMs: seconds * 1000,
    openBrowser,
    showUrl: (url, redirectUri) => {
      io.stdout.write(
        `Log in to DSN "${dsn.name}" by opening this URL in a browser${openBrowser ? ' (opening it now)' : ''}:\n\n` +
          `  ${url}\n\n` +
          `Waiting up to ${seconds} s for the browser to come back to ${redirectUri} ...\n` +
          (openBrowser
            ? ''
            : `(No browser on this machine? Stop this and run tokenshim login ${dsn.name} --paste${dsn.deviceAuthUri ? ' or --device' : ''}.)\n`),
      );
    },
    onStateMismatch: () =>
      io.stderr.write(
        'tokenshim login: ignored a redirect whose state does not match this login\n',
      ),
  });
}

async function pasteLogin(
  dsn: DsnConfig,
  { io, deps, timeoutSeconds }: FlowContext,
  common: CommonDeps,
): Promise<LoginResult> {
  const seconds = timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS.paste;
  const lines = createInterface({ input: deps.stdin ?? process.stdin, crlfDelay: Infinity });
  try {
    return await loginWithPaste(dsn, {
      ...common,
      timeoutMs: seconds * 1000,
      lines,
      showUrl: (url, redirectUri) => {
        io.stdout.write(
          `Log in to DSN "${dsn.name}": open this URL in a browser on any machine and log in:\n\n` +
            `  ${url}\n\n` +
            `The browser is then sent to ${redirectUri}?code=... (that page may not load).\n` +
            'Copy the whole address from the address bar, paste it here and press Enter (the code alone works too).\n' +
            `Waiting up to ${seconds} s ...\n`,
        );
      },
      onIgnored: (why) =>
        io.stderr.write(
          `tokenshim login: that is not the answer to this login: ${why}. Paste the address again.\n`,
        ),
    });
  } finally {
    lines.close();
  }
}

/** `15 min`, or the --timeout when it is shorter. */
function describeWait(timeoutSeconds: number | undefined, expiresInSeconds: number): string {
  return describeSeconds(Math.min(timeoutSeconds ?? Infinity, expiresInSeconds));
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
