import type { ConfigProblem } from '../problems.js';

/**
 * Where Windows keeps ODBC DSNs: HKLM (system DSNs) or HKCU (user DSNs), each under
 * SOFTWARE\ODBC\ODBC.INI, and, for 32-bit drivers on 64-bit Windows, under
 * SOFTWARE\WOW6432Node\ODBC\ODBC.INI. Shared by the .reg export reader and the live registry.
 */
export type Hive = 'HKLM' | 'HKCU';

/** One value of a DSN's key: an option, as a string (dword values in decimal). */
export interface RegistryValue {
  readonly name: string;
  readonly value: string;
  /** line in a .reg export; absent for the live registry */
  readonly line?: number;
}

/** A DSN read from the registry, and the key it came from. */
export interface RegistryDsn {
  readonly name: string;
  readonly values: readonly RegistryValue[];
  /** line of the `[key]` in a .reg export; absent for the live registry */
  readonly line?: number;
  readonly hive: Hive;
  /** 32 for WOW6432Node (32-bit drivers), 64 otherwise */
  readonly bits: 32 | 64;
  /** the full key, as regedit prints it */
  readonly key: string;
}

const HIVE_NAMES: Readonly<Record<string, Hive>> = {
  hkey_local_machine: 'HKLM',
  hklm: 'HKLM',
  hkey_current_user: 'HKCU',
  hkcu: 'HKCU',
};

/** Subkeys of ODBC.INI that belong to the driver manager, not to a DSN. */
const DRIVER_MANAGER_KEYS: ReadonlySet<string> = new Set(['odbc data sources', 'odbc file dsn']);

export type OdbcKey =
  | { readonly kind: 'dsn'; readonly hive: Hive; readonly bits: 32 | 64; readonly dsn: string }
  /** ODBC.INI itself, `ODBC Data Sources`, or a key outside ODBC.INI (ODBCINST.INI, ...) */
  | { readonly kind: 'other' }
  /** a key below a DSN's key: DataDirect keeps no options there */
  | { readonly kind: 'below-dsn'; readonly dsn: string };

/**
 * Classifies a registry key path: `HKEY_LOCAL_MACHINE\SOFTWARE\ODBC\ODBC.INI\Marketo Prod` is the
 * 64-bit system DSN "Marketo Prod". Case-insensitive, as the registry is.
 */
export function classifyOdbcKey(path: string): OdbcKey {
  const parts = path.split('\\');
  const hive = HIVE_NAMES[parts[0]?.toLowerCase() ?? ''];
  if (!hive || parts[1]?.toLowerCase() !== 'software') return { kind: 'other' };
  let rest = parts.slice(2);
  let bits: 32 | 64 = 64;
  if (rest[0]?.toLowerCase() === 'wow6432node') {
    bits = 32;
    rest = rest.slice(1);
  }
  if (rest[0]?.toLowerCase() !== 'odbc' || rest[1]?.toLowerCase() !== 'odbc.ini')
    return { kind: 'other' };
  const dsn = rest[2];
  if (dsn === undefined || dsn === '' || DRIVER_MANAGER_KEYS.has(dsn.toLowerCase()))
    return { kind: 'other' };
  if (rest.length > 3) return { kind: 'below-dsn', dsn };
  return { kind: 'dsn', hive, bits, dsn };
}

/**
 * One DSN per name. The ODBC driver manager looks for a user DSN before a system DSN, so HKCU wins
 * over HKLM; tokenshim and Qlik Sense are 64-bit processes, so the 64-bit DSN wins over the 32-bit
 * one. The DSN left out is named in a warning: two different definitions under one name are
 * worth knowing about.
 */
export function pickRegistryDsns(
  found: readonly RegistryDsn[],
  source: string,
  problems: ConfigProblem[],
): RegistryDsn[] {
  const rank = (d: RegistryDsn): number => (d.hive === 'HKCU' ? 0 : 2) + (d.bits === 64 ? 0 : 1);
  const chosen = new Map<string, RegistryDsn>();
  for (const dsn of [...found].sort((a, b) => rank(a) - rank(b))) {
    const name = dsn.name.toLowerCase();
    const winner = chosen.get(name);
    if (!winner) {
      chosen.set(name, dsn);
      continue;
    }
    problems.push({
      severity: 'warning',
      source,
      ...(dsn.line === undefined ? {} : { line: dsn.line }),
      dsn: dsn.name,
      message: `the DSN is defined twice; ${describeDsnKey(winner)} is used and ${describeDsnKey(dsn)} is ignored`,
      fix: 'delete or rename the DSN you do not use (ODBC Data Source Administrator)',
    });
  }
  return found.filter((d) => chosen.get(d.name.toLowerCase()) === d);
}

function describeDsnKey(d: RegistryDsn): string {
  return `the ${d.bits}-bit ${d.hive === 'HKCU' ? 'user' : 'system'} DSN (${d.key})`;
}

/** Registry value types an ODBC option can be read from. */
const OPTION_TYPES: ReadonlySet<string> = new Set([
  'REG_SZ',
  'REG_EXPAND_SZ',
  'REG_DWORD',
  'REG_QWORD',
]);

/**
 * Why a registry value cannot be a DSN option, or undefined when it can. The ODBC Data Source
 * Administrator writes REG_SZ; anything else was made by hand, and is reported rather than guessed.
 */
export function unusableRegistryValue(
  type: string,
  value: string,
): Pick<ConfigProblem, 'severity' | 'message' | 'fix'> | undefined {
  if (!OPTION_TYPES.has(type)) {
    return {
      severity: 'error',
      message: `the value is a ${type}${type === 'REG_MULTI_SZ' ? ' (a list of strings)' : ''}, which cannot be an ODBC option`,
      fix: 'make it a string value (REG_SZ) in the ODBC Data Source Administrator or regedit',
    };
  }
  if (type === 'REG_EXPAND_SZ' && /%[^%\s]+%/.test(value)) {
    return {
      severity: 'error',
      message: 'the value is a REG_EXPAND_SZ with %VARIABLES%, which tokenshim does not expand',
      fix: 'write the option as a plain string, or take the variable with ${env:NAME}',
    };
  }
  return undefined;
}
