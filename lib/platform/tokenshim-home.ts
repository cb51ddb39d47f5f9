import { ENV } from './environment-names.js';
import { homedir as osHomedir } from 'node:os';
import { posix, win32 } from 'node:path';

/** `path.win32` for Windows, `path.posix` elsewhere: paths for a platform other than this one (tests, --dry-run). */
export function pathFor(platform: NodeJS.Platform): typeof posix {
  return platform === 'win32' ? win32 : posix;
}

/**
 * An environment variable as Windows reads it (names ignore case there; process.env does that by
 * itself on Windows, a plain object passed by a test does not).
 */
export function envValue(
  env: NodeJS.ProcessEnv,
  name: string,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (env[name] !== undefined || platform !== 'win32') return env[name];
  const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : env[key];
}

/**
 * The profile folders Windows gives the built-in service accounts: LocalSystem's
 * `C:\Windows\system32\config\systemprofile` and `C:\Windows\ServiceProfiles\<account>` for
 * LocalService, NetworkService and virtual accounts (NT SERVICE\<name>). Files kept there are out of
 * an administrator's sight and, for LocalSystem, inside the Windows folder.
 */
export function isWindowsServiceProfile(home: string): boolean {
  const h = win32.normalize(home).toLowerCase();
  return /\\system32\\config\\systemprofile\\?$/.test(h) || /\\serviceprofiles\\[^\\]+\\?$/.test(h);
}

export interface TokenshimHomeOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** default os.homedir() */
  readonly homedir?: string;
}

/**
 * Where tokenshim keeps its own files (the local CA, the token store of `--connect`):
 * `$TOKENSHIM_HOME`; else, for a Windows service account, `%ProgramData%\tokenshim`; else
 * `~/.tokenshim`.
 */
export function tokenshimHome(opts: TokenshimHomeOptions = {}): string {
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  const path = pathFor(platform);
  const explicit = envValue(env, ENV.HOME, platform);
  if (explicit) return path.resolve(explicit);
  const home = opts.homedir ?? osHomedir();
  if (platform === 'win32' && isWindowsServiceProfile(home)) return windowsServiceHome(env);
  return path.join(home, '.tokenshim');
}

/** `%ProgramData%\tokenshim`: the default TOKENSHIM_HOME of the Windows service. */
export function windowsServiceHome(env: NodeJS.ProcessEnv): string {
  return win32.join(envValue(env, 'ProgramData', 'win32') ?? 'C:\\ProgramData', 'tokenshim');
}
