import { ENV } from '../platform/environment-names.js';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, resolve } from 'node:path';
import {
  parseRegistrySelection,
  readDsnFile,
  readIniFile,
  readRegistrySections,
  type DsnSection,
  type RegistrySelection,
} from './config-sources.js';
import { ConnectionStringSyntaxError, parseConnectionString } from './connection-string.js';
import { lookupOption } from './catalogue.js';
import type { DsnConfig } from './dsn.js';
import { readDsnModel } from './dsn-model.js';
import { dsnNameProblem } from './dsn-name.js';
import type { ConfigProblem } from './problems.js';
import type { DpapiDeps } from '../platform/dpapi.js';
import type { WindowsAclDeps } from '../platform/windows-acl.js';
import type { LiveRegistryDeps } from './registry/live-registry.js';
import { collectDsn, resolveDsn, type RawEntry } from './resolve.js';
import { createReferenceResolver } from './value-references.js';

export interface LoadOptions {
  /** --config FILE, or `registry`, `registry:HKLM`, `registry:HKCU` */
  configPath?: string;
  /** --connect "AuthenticationMethod=54;..." */
  connect?: string;
  /**
   * `connect` was written on the command line (not piped in with `--connect -`): every other user
   * of the machine can read it in the process list, so secrets written in it are warned about
   */
  connectOnCommandLine?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
  /** the live registry's seams (platform, REG.EXE), for tests */
  registry?: LiveRegistryDeps;
  /** DPAPI's seams (platform, module), for tests of `${dpapi:...}` values */
  dpapi?: DpapiDeps;
  /** the Windows ACL check's seams (platform, icacls), for tests */
  acl?: WindowsAclDeps;
}

export interface LoadedConfig {
  /** the odbc.ini or .reg file read, if any */
  path?: string;
  /** what was read, for messages: the file path, or `registry:HKLM` and the like */
  label?: string;
  dsns: DsnConfig[];
  problems: ConfigProblem[];
}

const CONNECTION_STRING = 'connection string';

/**
 * Where config comes from: --config FILE, else $TOKENSHIM_CONFIG, else $ODBCINI, else ./odbc.ini,
 * else ~/.odbc.ini. The first that is named (or, for the last two, exists) is used. --config and
 * $TOKENSHIM_CONFIG may also name the live Windows registry (`registry`, `registry:HKLM`).
 */
export async function locateConfig(opts: LoadOptions): Promise<{
  path?: string;
  registry?: RegistrySelection | { error: string };
  why: string;
}> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  for (const [spec, why] of [
    [opts.configPath, '--config'],
    [env[ENV.CONFIG], `$${ENV.CONFIG}`],
  ] as const) {
    if (!spec) continue;
    const registry = parseRegistrySelection(spec);
    return registry ? { registry, why } : { path: resolve(cwd, spec), why };
  }
  if (env.ODBCINI) return { path: resolve(cwd, env.ODBCINI), why: '$ODBCINI' };
  for (const [candidate, why] of [
    [resolve(cwd, 'odbc.ini'), './odbc.ini'],
    [resolve(opts.home ?? homedir(), '.odbc.ini'), '~/.odbc.ini'],
  ] as const) {
    if (await exists(candidate)) return { path: candidate, why };
  }
  return { why: 'none found' };
}

/** The DSN sections of the located source, or undefined when it could not be read. */
async function readLocated(
  located: Awaited<ReturnType<typeof locateConfig>>,
  opts: LoadOptions,
  problems: ConfigProblem[],
): Promise<DsnSection[] | undefined> {
  if (located.registry && 'error' in located.registry) {
    problems.push({
      severity: 'error',
      source: located.why,
      message: located.registry.error,
      fix: 'write --config registry (user and system DSNs), registry:HKLM or registry:HKCU',
    });
    return undefined;
  }
  if (located.registry) return readRegistrySections(located.registry, problems, opts.registry);
  return located.path === undefined ? undefined : readDsnFile(located.path, problems, opts.acl);
}

function labelOf(located: Awaited<ReturnType<typeof locateConfig>>): string | undefined {
  if (located.registry && !('error' in located.registry)) return located.registry.label;
  return located.path;
}

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const problems: ConfigProblem[] = [];
  if (opts.connect !== undefined) return loadConnectionString(opts.connect, opts, problems);

  const located = await locateConfig(opts);
  if (!located.path && !located.registry) {
    problems.push({
      severity: 'error',
      source: 'tokenshim',
      message:
        'no configuration found (looked at --config, $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini and ~/.odbc.ini)',
      fix: 'pass --config odbc.ini, or --connect "AuthenticationMethod=...;HostName=...;"',
    });
    return { dsns: [], problems };
  }
  const label = labelOf(located);
  const sections = await readLocated(located, opts, problems);
  const dsns: DsnConfig[] = [];
  if (sections) {
    if (sections.length === 0 && !problems.some((p) => p.severity === 'error')) {
      problems.push({
        severity: 'error',
        source: label ?? located.why,
        message: 'the file has no DSN sections',
        fix: 'add a section such as [marketo] with AuthenticationMethod, HostName and the options its method needs (see odbc.ini.example)',
      });
    }
    const seen = new Map<string, DsnSection>();
    for (const section of sections) {
      const prior = seen.get(section.name.toLowerCase());
      if (prior) {
        problems.push({
          severity: 'error',
          source: section.source,
          ...lineOf(section),
          dsn: section.name,
          message: `the DSN [${section.name}] is defined twice (first on line ${prior.line})`,
          fix: 'merge the two sections or rename one',
        });
        continue;
      }
      seen.set(section.name.toLowerCase(), section);
      const dsn = await buildDsn(section, opts, problems);
      if (dsn) dsns.push(dsn);
    }
  }
  return {
    ...(located.path ? { path: located.path } : {}),
    ...(label ? { label } : {}),
    dsns,
    problems,
  };
}

/**
 * `${env:}`, `${file:}` and `${dpapi:}` references resolved, the Model file read (RestConfigFile),
 * then the options checked; the values references gave travel with the DSN so every display of it
 * can mask them.
 */
async function buildDsn(
  section: DsnSection,
  opts: LoadOptions,
  problems: ConfigProblem[],
): Promise<DsnConfig | undefined> {
  const badName = dsnNameProblem(section.name);
  if (badName !== undefined) {
    problems.push({
      severity: 'error',
      source: section.source,
      ...lineOf(section),
      dsn: section.name,
      message: badName,
      fix: 'rename the DSN: spaces, accents and other punctuation are fine (the gateway URL percent-encodes them)',
    });
    return undefined;
  }
  const resolveReferences = createReferenceResolver({
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.dpapi ? { dpapi: opts.dpapi } : {}),
  });
  const resolved = await resolveReferences(section.entries, section.name, problems);
  const { secrets } = resolved;
  const { entries, model } = await readDsnModel(
    section.name,
    resolved.entries,
    opts.cwd ?? process.cwd(),
    problems,
  );
  const raw = collectDsn(section.name, section.source, section.line, entries, problems);
  const dsn = resolveDsn(raw, problems, model);
  return dsn && secrets.length > 0 ? { ...dsn, referencedSecrets: secrets } : dsn;
}

function lineOf(section: DsnSection): { line?: number } {
  return section.line === undefined ? {} : { line: section.line };
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

  if (opts.connectOnCommandLine) warnSecretsOnCommandLine(own, problems);

  // DSN= loads that section from the ini file; FILEDSN= loads a .dsn file's [ODBC] section. The
  // string's own pairs override either (ODBC rule: "attributes in the string override the DSN").
  let base: RawEntry[] = [];
  let path: string | undefined;
  let source: string | undefined;
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
      base = section.entries.filter((e) => e.key.toLowerCase() !== 'driver');
      line = section.line;
    }
    dsnName ??= basename(fileDsn).replace(/\.dsn$/i, '');
  } else if (dsnName !== undefined) {
    const located = await locateConfig({ ...opts, connect: undefined });
    if (!located.path && !located.registry) {
      problems.push({
        severity: 'error',
        source: CONNECTION_STRING,
        dsn: dsnName,
        message: `DSN=${dsnName} names a data source, but no odbc.ini was found`,
        fix: 'pass --config FILE (or --config registry on Windows), or set $ODBCINI',
      });
      return { dsns: [], problems };
    }
    path = located.path;
    const sections = await readLocated(located, opts, problems);
    const section = sections?.find((s) => s.name.toLowerCase() === dsnName!.toLowerCase());
    if (sections && !section) {
      const names = sections.map((s) => s.name);
      problems.push({
        severity: 'error',
        source: labelOf(located) ?? located.why,
        dsn: dsnName,
        message: `DSN=${dsnName} is not a section of this file (it has: ${names.join(', ') || 'none'})`,
        fix: 'fix the DSN name, or pass the right --config',
      });
    }
    if (section) {
      base = [...section.entries];
      line = section.line;
      source = section.source;
    }
  }
  if (problems.some((p) => p.severity === 'error'))
    return { ...(path ? { path } : {}), dsns: [], problems };

  const overridden = new Set(own.map((e) => canonicalKey(e.key)));
  const merged = [...base.filter((e) => !overridden.has(canonicalKey(e.key))), ...own];
  const name = dsnName ?? 'default';
  const dsn = await buildDsn(
    {
      name,
      source: source ?? path ?? CONNECTION_STRING,
      ...(line === undefined ? {} : { line }),
      entries: merged,
    },
    opts,
    problems,
  );
  return { ...(path ? { path } : {}), dsns: dsn ? [dsn] : [], problems };
}

/**
 * `tokenshim serve --connect "...;ClientSecret=abc"` leaves the secret in the process list (`ps`,
 * Task Manager's command line column) for every user of the machine, for as long as it runs.
 * A `${env:}` or `${file:}` reference in its place is fine: only the reference is visible.
 */
function warnSecretsOnCommandLine(entries: readonly RawEntry[], problems: ConfigProblem[]): void {
  const literal = entries
    .filter((e) => lookupOption(e.key)?.type === 'secret' && !e.value.includes('${'))
    .map((e) => lookupOption(e.key)!.name);
  if (literal.length === 0) return;
  const first = literal[0]!;
  problems.push({
    severity: 'warning',
    source: CONNECTION_STRING,
    message:
      `${literal.join(', ')} ${literal.length === 1 ? 'is' : 'are'} written on the command line (--connect), ` +
      'where every user of this machine can read it in the process list',
    fix:
      'pipe the connection string in instead (tokenshim serve --connect - < dsn.txt), ' +
      `or write ${first}=\${env:NAME} and set NAME in the environment`,
  });
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
