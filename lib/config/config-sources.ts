import { readFile, stat } from 'node:fs/promises';
import { ODBC_SYSTEM_SECTIONS, looksBinary, parseOdbcIni, type IniSection } from './odbc-ini.js';
import {
  describeBroadReadAccess,
  ownerOnlyAclCommand,
  type WindowsAclDeps,
} from '../platform/windows-acl.js';
import { lookupOption } from './catalogue.js';
import { lookupDataDirectOption } from './datadirect-options.js';
import type { ConfigProblem } from './problems.js';
import { reportEncryptedValues } from './registry/encrypted-values.js';
import { readLiveRegistry, type LiveRegistryDeps } from './registry/live-registry.js';
import { decodeRegFile, looksLikeRegExport, parseRegFile } from './registry/reg-file.js';
import { pickRegistryDsns, type Hive, type RegistryDsn } from './registry/registry-dsns.js';
import type { RawEntry } from './resolve.js';

/**
 * Where DSNs are read from: an odbc.ini file, a regedit export of the ODBC.INI keys, or the live
 * Windows registry. Each gives the same thing: DSN sections whose entries say where they came
 * from (file and line, or registry key), so every later message can point at the value.
 */
export interface DsnSection {
  readonly name: string;
  /** file path, or the registry key of the DSN */
  readonly source: string;
  readonly line?: number;
  readonly entries: readonly RawEntry[];
}

/** `--config registry`, `registry:HKLM`, `registry:HKCU`: the live registry instead of a file. */
export interface RegistrySelection {
  readonly hives: readonly Hive[];
  /** as the user wrote it, for messages */
  readonly label: string;
}

/**
 * `registry` (both hives, user DSNs first as the ODBC driver manager looks them up),
 * `registry:HKLM` or `registry:HKCU`; undefined for anything else (a file path). An unknown hive
 * is an error rather than a file name.
 */
export function parseRegistrySelection(
  spec: string,
): RegistrySelection | { error: string } | undefined {
  const m = /^registry(?::(.*))?$/i.exec(spec.trim());
  if (!m) return undefined;
  const hive = m[1]?.trim().toUpperCase();
  if (hive === undefined) return { hives: ['HKCU', 'HKLM'], label: 'registry' };
  if (hive === 'HKLM' || hive === 'HKEY_LOCAL_MACHINE') return { hives: ['HKLM'], label: spec };
  if (hive === 'HKCU' || hive === 'HKEY_CURRENT_USER') return { hives: ['HKCU'], label: spec };
  return { error: `"${spec}" names no registry hive tokenshim reads DSNs from` };
}

/** DSN sections from the live registry. */
export async function readRegistrySections(
  selection: RegistrySelection,
  problems: ConfigProblem[],
  deps: LiveRegistryDeps = {},
): Promise<DsnSection[]> {
  const read = await readLiveRegistry(selection.hives, selection.label, deps);
  problems.push(...read.problems);
  return pickRegistryDsns(read.dsns, selection.label, problems).map((d) =>
    registrySection(d, problems),
  );
}

/**
 * DSN sections of a config file: a regedit export when it starts like one (UTF-16LE or UTF-8),
 * an odbc.ini otherwise. The ODBC driver manager's own sections are left out.
 */
export async function readDsnFile(
  path: string,
  problems: ConfigProblem[],
  acl: WindowsAclDeps = {},
): Promise<DsnSection[] | undefined> {
  const buf = await readConfigBytes(path, problems);
  if (!buf) return undefined;
  if (looksLikeRegExport(buf) || /\.reg$/i.test(path)) {
    const parsed = parseRegFile(decodeRegFile(buf), path);
    problems.push(...parsed.problems);
    await warnIfReadableByOthers(path, problems, acl);
    return pickRegistryDsns(parsed.dsns, path, problems).map((d) =>
      registrySection(d, problems, path),
    );
  }
  const sections = parseIniBytes(buf, path, problems);
  if (!sections) return undefined;
  await warnIfReadableByOthers(path, problems, acl);
  return sections
    .filter((s) => !ODBC_SYSTEM_SECTIONS.has(s.name.toLowerCase()))
    .map((s) => iniSection(s, path));
}

/** Every section of an ini file (a .dsn file's [ODBC] included). */
export async function readIniFile(
  path: string,
  problems: ConfigProblem[],
): Promise<DsnSection[] | undefined> {
  const buf = await readConfigBytes(path, problems);
  if (!buf) return undefined;
  const sections = parseIniBytes(buf, path, problems);
  if (!sections) return undefined;
  await warnIfReadableByOthers(path, problems);
  return sections.map((s) => iniSection(s, path));
}

function iniSection(section: IniSection, path: string): DsnSection {
  return {
    name: section.name,
    source: path,
    line: section.line,
    entries: section.entries.map((e) => ({
      key: e.key,
      value: e.value,
      origin: { source: path, line: e.line, key: e.key },
    })),
  };
}

/**
 * A registry DSN's values; they point at the .reg file's lines, or at the live key. Secrets that
 * DataDirect's ODBC Administrator encrypted are reported: tokenshim cannot use them.
 */
function registrySection(dsn: RegistryDsn, problems: ConfigProblem[], file?: string): DsnSection {
  const source = file ?? dsn.key;
  const section: DsnSection = {
    name: dsn.name,
    source,
    ...(dsn.line === undefined ? {} : { line: dsn.line }),
    entries: dsn.values.map((v) => ({
      key: v.name,
      value: v.value,
      origin: { source, ...(v.line === undefined ? {} : { line: v.line }), key: v.name },
    })),
  };
  reportEncryptedValues(section, isSecretOption, problems);
  return section;
}

function isSecretOption(key: string): boolean {
  return lookupOption(key)?.type === 'secret' || lookupDataDirectOption(key)?.secret === true;
}

async function readConfigBytes(
  path: string,
  problems: ConfigProblem[],
): Promise<Buffer | undefined> {
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
  return buf;
}

function parseIniBytes(
  buf: Buffer,
  path: string,
  problems: ConfigProblem[],
): IniSection[] | undefined {
  if (looksBinary(buf)) {
    problems.push({
      severity: 'error',
      source: path,
      message: 'the config file is not a text file (it holds binary data or is not UTF-8)',
      fix: 'point --config at an odbc.ini text file (saved as UTF-8) or a regedit export (.reg)',
    });
    return undefined;
  }
  const { sections, problems: found } = parseOdbcIni(buf.toString('utf8'), path);
  problems.push(...found);
  return sections;
}

async function warnIfReadableByOthers(
  path: string,
  problems: ConfigProblem[],
  acl: WindowsAclDeps = {},
): Promise<void> {
  if ((acl.platform ?? process.platform) === 'win32') {
    const broad = await describeBroadReadAccess(path, acl);
    if (broad) {
      problems.push({
        severity: 'warning',
        source: path,
        message: `the config file is ${broad} and may hold secrets`,
        fix: `${ownerOnlyAclCommand(path)} (if tokenshim runs as a service account other than LocalSystem, also grant it read: /grant "ACCOUNT:(R)")`,
      });
    }
    return;
  }
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
