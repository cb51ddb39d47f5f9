import type { ConfigProblem } from '../problems.js';
import { runCommand, system32Tool, type RunCommand } from '../../platform/run-command.js';
import {
  classifyOdbcKey,
  unusableRegistryValue,
  type Hive,
  type RegistryDsn,
  type RegistryValue,
} from './registry-dsns.js';

/**
 * DSNs from the live Windows registry (`--config registry`), read with REG.EXE QUERY /s.
 *
 * REG.EXE rather than a registry library: it is on every Windows Server, needs no native module
 * (tokenshim installs from an offline tarball on air-gapped servers, where a native build or a
 * prebuilt-binary download fails), and its output is plain text that the tests here read from
 * captured samples through the RunCommand seam. Its output follows the console code page, so it
 * runs after `chcp 65001` to come out as UTF-8: DSN names and values may hold any character.
 */

export interface LiveRegistryDeps {
  readonly platform?: NodeJS.Platform;
  readonly run?: RunCommand;
  readonly env?: NodeJS.ProcessEnv;
}

/** The keys a hive keeps DSNs under: 64-bit drivers, then 32-bit drivers (WOW6432Node). */
export function odbcIniKeys(hive: Hive): string[] {
  return [`${hive}\\SOFTWARE\\ODBC\\ODBC.INI`, `${hive}\\SOFTWARE\\WOW6432Node\\ODBC\\ODBC.INI`];
}

export async function readLiveRegistry(
  hives: readonly Hive[],
  source: string,
  deps: LiveRegistryDeps = {},
): Promise<{ dsns: RegistryDsn[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = [];
  const platform = deps.platform ?? process.platform;
  if (platform !== 'win32') {
    problems.push({
      severity: 'error',
      source,
      message: `the Windows registry can only be read on Windows (this is ${platform})`,
      fix: 'export the DSNs on the Windows machine (regedit: right-click HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI > Export) and pass --config file.reg, or use an odbc.ini',
    });
    return { dsns: [], problems };
  }
  const env = deps.env ?? process.env;
  const run = deps.run ?? runCommand;
  const dsns: RegistryDsn[] = [];
  const failures: string[] = [];
  for (const key of hives.flatMap(odbcIniKeys)) {
    let result;
    try {
      result = await run(system32Tool('cmd.exe', env), regQueryArgs(key, env));
    } catch (e) {
      problems.push({
        severity: 'error',
        source,
        message: `REG.EXE could not be started (${(e as Error).message})`,
        fix: 'run tokenshim on Windows with %SystemRoot%\\System32\\reg.exe present, or pass --config file.reg',
      });
      return { dsns: [], problems };
    }
    const text = result.stdout.toString('utf8');
    // a hive without this key (no 32-bit DSNs, say) is normal: REG.EXE exits 1 and prints nothing
    if (result.code !== 0 && text.trim() === '') {
      failures.push(
        `${key}: ${result.stderr.toString('utf8').trim() || `exit code ${result.code}`}`,
      );
      continue;
    }
    dsns.push(...parseRegQuery(text, problems));
  }
  if (dsns.length === 0 && !problems.some((p) => p.severity === 'error')) {
    problems.push({
      severity: 'error',
      source,
      message: `the registry holds no DSN under ${hives.flatMap(odbcIniKeys).join(', ')}${failures.length > 0 ? ` (REG.EXE: ${failures.join('; ')})` : ''}`,
      fix: 'create the DSN in the ODBC Data Source Administrator (odbcad32.exe), or name the hive that has it: --config registry:HKLM or registry:HKCU',
    });
  }
  return { dsns, problems };
}

/**
 * `cmd /d /c chcp 65001>nul & reg.exe query KEY /s`: the key paths are tokenshim's own constants,
 * never user input, so nothing from a config reaches the command line.
 */
export function regQueryArgs(key: string, env: NodeJS.ProcessEnv): string[] {
  // no quotes inside: Node quotes the whole argument with MSVCRT rules, which cmd does not read
  return ['/d', '/c', `chcp 65001>nul & ${system32Tool('reg.exe', env)} query ${key} /s`];
}

/** `    Name    REG_TYPE    data`: four spaces around the type, which names cannot contain. */
const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

/**
 * `reg query KEY /s` output: a line per key (`HKEY_LOCAL_MACHINE\...\ODBC.INI\Marketo Prod`), then
 * its values indented by four spaces, then a blank line; a closing summary line, localized, which
 * matches neither form.
 */
export function parseRegQuery(text: string, problems: ConfigProblem[]): RegistryDsn[] {
  const byKey = new Map<string, { dsn: RegistryDsn; values: RegistryValue[] }>();
  let current: { dsn: RegistryDsn; values: RegistryValue[] } | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^HKEY_[A-Z_]+\\/i.test(raw)) {
      const key = classifyOdbcKey(raw.trimEnd());
      current = undefined;
      if (key.kind !== 'dsn') continue;
      const path = raw.trimEnd();
      current = byKey.get(path.toLowerCase());
      if (!current) {
        current = {
          dsn: { name: key.dsn, values: [], hive: key.hive, bits: key.bits, key: path },
          values: [],
        };
        byKey.set(path.toLowerCase(), current);
      }
      continue;
    }
    const m = VALUE_LINE.exec(raw);
    if (!m || !current) continue;
    const [, name, type, data = ''] = m as unknown as [string, string, string, string?];
    // the key's default value, printed as "(Default)" in the system's language: not an option
    if (/^\(.*\)$/.test(name)) continue;
    const number = /^REG_[DQ]WORD$/.test(type) && /^0x[0-9a-f]+$/i.test(data.trim());
    const value = number ? String(BigInt(data.trim())) : data;
    const problem = unusableRegistryValue(type, value);
    if (problem) {
      problems.push({ source: current.dsn.key, dsn: current.dsn.name, key: name, ...problem });
      continue;
    }
    current.values.push({ name, value });
  }
  return [...byKey.values()].map(({ dsn, values }) => ({ ...dsn, values }));
}
