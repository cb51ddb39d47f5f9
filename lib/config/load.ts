import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, resolve } from 'node:path';
import { ConnectionStringSyntaxError, parseConnectionString } from './connection-string.js';
import { lookupOption } from './catalogue.js';
import type { DsnConfig } from './dsn.js';
import { ODBC_SYSTEM_SECTIONS, looksBinary, parseOdbcIni, type IniSection } from './odbc-ini.js';
import type { ConfigProblem } from './problems.js';
import { collectDsn, resolveDsn, type RawEntry } from './resolve.js';

export interface LoadOptions {
  /** --config FILE */
  configPath?: string;
  /** --connect "AuthenticationMethod=54;..." */
  connect?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

export interface LoadedConfig {
  /** the odbc.ini file read, if any */
  path?: string;
  dsns: DsnConfig[];
  problems: ConfigProblem[];
}

const CONNECTION_STRING = 'connection string';

/**
 * Where config comes from: --config FILE, else $TOKENSHIM_CONFIG, else $ODBCINI, else ./odbc.ini,
 * else ~/.odbc.ini. The first that is named (or, for the last two, exists) is used.
 */
export async function locateConfig(opts: LoadOptions): Promise<{ path?: string; why: string }> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.configPath) return { path: resolve(cwd, opts.configPath), why: '--config' };
  if (env.TOKENSHIM_CONFIG)
    return { path: resolve(cwd, env.TOKENSHIM_CONFIG), why: '$TOKENSHIM_CONFIG' };
  if (env.ODBCINI) return { path: resolve(cwd, env.ODBCINI), why: '$ODBCINI' };
  for (const [candidate, why] of [
    [resolve(cwd, 'odbc.ini'), './odbc.ini'],
    [resolve(opts.home ?? homedir(), '.odbc.ini'), '~/.odbc.ini'],
  ] as const) {
    if (await exists(candidate)) return { path: candidate, why };
  }
  return { why: 'none found' };
}

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const problems: ConfigProblem[] = [];
  if (opts.connect !== undefined) return loadConnectionString(opts.connect, opts, problems);

  const located = await locateConfig(opts);
  if (!located.path) {
    problems.push({
      severity: 'error',
      source: 'tokenshim',
      message:
        'no configuration found (looked at --config, $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini and ~/.odbc.ini)',
      fix: 'pass --config odbc.ini, or --connect "AuthenticationMethod=...;HostName=...;"',
    });
    return { dsns: [], problems };
  }
  const sections = await readIniFile(located.path, problems);
  const dsns: DsnConfig[] = [];
  if (sections) {
    const dsnSections = sections.filter((s) => !ODBC_SYSTEM_SECTIONS.has(s.name.toLowerCase()));
    if (dsnSections.length === 0 && !problems.some((p) => p.severity === 'error')) {
      problems.push({
        severity: 'error',
        source: located.path,
        message: 'the file has no DSN sections',
        fix: 'add a section such as [marketo] with AuthenticationMethod, HostName and the options its method needs (see odbc.ini.example)',
      });
    }
    const seen = new Map<string, IniSection>();
    for (const section of dsnSections) {
      const prior = seen.get(section.name.toLowerCase());
      if (prior) {
        problems.push({
          severity: 'error',
          source: located.path,
          line: section.line,
          dsn: section.name,
          message: `the DSN [${section.name}] is defined twice (first on line ${prior.line})`,
          fix: 'merge the two sections or rename one',
        });
        continue;
      }
      seen.set(section.name.toLowerCase(), section);
      if (!/^[A-Za-z0-9._~-]+$/.test(section.name)) {
        problems.push({
          severity: 'error',
          source: located.path,
          line: section.line,
          dsn: section.name,
          message: `the DSN name "${section.name}" cannot appear in a URL path as is`,
          fix: 'use letters, digits, ".", "_", "~" and "-" only (it becomes the first path segment of the gateway URL, /<DSN>/...)',
        });
        continue;
      }
      const raw = collectDsn(
        section.name,
        located.path,
        section.line,
        entriesOf(section, located.path),
        problems,
      );
      const dsn = resolveDsn(raw, problems);
      if (dsn) dsns.push(dsn);
    }
  }
  return { path: located.path, dsns, problems };
}

async function loadConnectionString(
  text: string,
  opts: LoadOptions,
  problems: ConfigProblem[],
): Promise<LoadedConfig> {
  let pairs;
  try {
    pairs = parseConnectionString(text);
  } catch (e) {
    if (!(e instanceof ConnectionStringSyntaxError)) throw e;
    problems.push({ severity: 'error', source: CONNECTION_STRING, message: e.message });
    return { dsns: [], problems };
  }
  const own: RawEntry[] = [];
  let dsnName: string | undefined;
  let fileDsn: string | undefined;
  for (const p of pairs) {
    const k = p.key.toLowerCase();
    if (k === 'dsn') dsnName = p.value;
    else if (k === 'filedsn') fileDsn = p.value;
    else if (k !== 'driver')
      own.push({ key: p.key, value: p.value, origin: { source: CONNECTION_STRING, key: p.key } });
  }

  // DSN= loads that section from the ini file; FILEDSN= loads a .dsn file's [ODBC] section. The
  // string's own pairs override either (ODBC rule: "attributes in the string override the DSN").
  let base: RawEntry[] = [];
  let path: string | undefined;
  let line: number | undefined;
  if (fileDsn !== undefined) {
    path = resolve(opts.cwd ?? process.cwd(), fileDsn);
    const sections = await readIniFile(path, problems);
    const section = sections?.find((s) => s.name.toLowerCase() === 'odbc');
    if (sections && !section) {
      problems.push({
        severity: 'error',
        source: path,
        message: 'the file DSN has no [ODBC] section',
        fix: 'put the options under [ODBC]',
      });
    }
    if (section) {
      base = entriesOf(section, path).filter((e) => e.key.toLowerCase() !== 'driver');
      line = section.line;
    }
    dsnName ??= basename(fileDsn).replace(/\.dsn$/i, '');
  } else if (dsnName !== undefined) {
    const located = await locateConfig({ ...opts, connect: undefined });
    if (!located.path) {
      problems.push({
        severity: 'error',
        source: CONNECTION_STRING,
        dsn: dsnName,
        message: `DSN=${dsnName} names a data source, but no odbc.ini was found`,
        fix: 'pass --config FILE, or set $ODBCINI',
      });
      return { dsns: [], problems };
    }
    path = located.path;
    const sections = await readIniFile(path, problems);
    const section = sections?.find((s) => s.name.toLowerCase() === dsnName!.toLowerCase());
    if (sections && !section) {
      const names = sections
        .filter((s) => !ODBC_SYSTEM_SECTIONS.has(s.name.toLowerCase()))
        .map((s) => s.name);
      problems.push({
        severity: 'error',
        source: path,
        dsn: dsnName,
        message: `DSN=${dsnName} is not a section of this file (it has: ${names.join(', ') || 'none'})`,
        fix: 'fix the DSN name, or pass the right --config',
      });
    }
    if (section) {
      base = entriesOf(section, path);
      line = section.line;
    }
  }
  if (problems.some((p) => p.severity === 'error'))
    return { ...(path ? { path } : {}), dsns: [], problems };

  const overridden = new Set(own.map((e) => canonicalKey(e.key)));
  const merged = [...base.filter((e) => !overridden.has(canonicalKey(e.key))), ...own];
  const name = dsnName ?? 'default';
  const raw = collectDsn(name, path ?? CONNECTION_STRING, line, merged, problems);
  const dsn = resolveDsn(raw, problems);
  return { ...(path ? { path } : {}), dsns: dsn ? [dsn] : [], problems };
}

async function readIniFile(
  path: string,
  problems: ConfigProblem[],
): Promise<IniSection[] | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push({
      severity: 'error',
      source: path,
      message:
        code === 'ENOENT'
          ? 'the config file does not exist'
          : code === 'EISDIR'
            ? 'the config path is a directory, not a file'
            : `the config file cannot be read (${code ?? String(e)})`,
      fix:
        code === 'ENOENT'
          ? 'check the path, or copy odbc.ini.example to start one'
          : 'check the path and its permissions',
    });
    return undefined;
  }
  if (buf.length === 0) {
    problems.push({
      severity: 'error',
      source: path,
      message: 'the config file is empty',
      fix: 'add a DSN section (see odbc.ini.example)',
    });
    return undefined;
  }
  if (looksBinary(buf)) {
    problems.push({
      severity: 'error',
      source: path,
      message: 'the config file is not a text file (it holds binary data or is not UTF-8)',
      fix: 'point --config at an odbc.ini text file; save it as UTF-8',
    });
    return undefined;
  }
  const { sections, problems: found } = parseOdbcIni(buf.toString('utf8'), path);
  problems.push(...found);
  await warnIfReadableByOthers(path, problems);
  return sections;
}

async function warnIfReadableByOthers(path: string, problems: ConfigProblem[]): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const s = await stat(path);
    if ((s.mode & 0o077) !== 0) {
      problems.push({
        severity: 'warning',
        source: path,
        message: `the config file is readable by other users (mode ${(s.mode & 0o777).toString(8)}) and may hold secrets`,
        fix: `chmod 600 ${path}`,
      });
    }
  } catch {
    // already reported by the read
  }
}

function entriesOf(section: IniSection, source: string): RawEntry[] {
  return section.entries.map((e) => ({
    key: e.key,
    value: e.value,
    origin: { source, line: e.line, key: e.key },
  }));
}

function canonicalKey(key: string): string {
  return lookupOption(key)?.name ?? key.trim().toLowerCase();
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
