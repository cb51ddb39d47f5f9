import type { ConfigProblem } from '../problems.js';
import {
  classifyOdbcKey,
  unusableRegistryValue,
  type RegistryDsn,
  type RegistryValue,
} from './registry-dsns.js';

/**
 * Regedit exports (`.reg`) of the ODBC DSN keys: what a Windows user has after "Export" on
 * HKEY_LOCAL_MACHINE\SOFTWARE\ODBC\ODBC.INI. regedit writes UTF-16LE with a byte-order mark and
 * CRLF line ends ("Windows Registry Editor Version 5.00"); the older REGEDIT4 format is ANSI.
 * Each `[key]` below ODBC.INI is a DSN; its `"Name"="Value"` lines are the DSN's options.
 */

const HEADER_V5 = 'Windows Registry Editor Version 5.00';
const HEADER_V4 = 'REGEDIT4';

/** True when the bytes start like a regedit export (any encoding regedit writes). */
export function looksLikeRegExport(buf: Buffer): boolean {
  const head = decodeRegFile(buf.subarray(0, 200)).trimStart();
  return head.startsWith(HEADER_V5) || head.startsWith(HEADER_V4);
}

/**
 * The text of a .reg file: UTF-16LE when it has the byte-order mark regedit writes (or, without
 * one, the zero high bytes of ASCII text in UTF-16LE), else UTF-8, else Windows-1252 (REGEDIT4).
 */
export function decodeRegFile(buf: Buffer): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
    return buf.subarray(3).toString('utf8');
  if (buf.length >= 4 && buf[1] === 0 && buf[3] === 0 && buf[0] !== 0)
    return buf.toString('utf16le');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return new TextDecoder('windows-1252').decode(buf);
  }
}

interface LogicalLine {
  readonly text: string;
  /** 1-based line where it starts */
  readonly line: number;
}

/** Physical lines joined where regedit wraps long hex values with a trailing backslash. */
function logicalLines(text: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const piece = pending ? raw.trimStart() : raw;
    const joined = pending ? pending.text + piece : piece;
    const line = pending?.line ?? index + 1;
    if (joined.endsWith('\\') && /^\s*(?:"(?:[^"\\]|\\.)*"|@)\s*=\s*hex/i.test(joined)) {
      pending = { text: joined.slice(0, -1), line };
      return;
    }
    pending = undefined;
    out.push({ text: joined, line });
  });
  if (pending) out.push(pending);
  return out;
}

export function parseRegFile(
  text: string,
  source: string,
): { dsns: RegistryDsn[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const lines = logicalLines(text.replace(/^\uFEFF/, ''));
  const first = lines.findIndex((l) => l.text.trim() !== '');
  const header = lines[first]?.text.trim();
  if (header !== HEADER_V5 && header !== HEADER_V4) {
    problems.push({
      severity: 'error',
      source,
      ...(first === -1 ? {} : { line: lines[first]!.line }),
      message: `the file is not a regedit export (its first line is not "${HEADER_V5}")`,
      fix: 'export the key with regedit (right-click HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI > Export), or give an odbc.ini',
    });
    return { dsns: [], problems };
  }

  const byKey = new Map<string, { dsn: RegistryDsn; values: RegistryValue[] }>();
  /** the DSN whose values the following lines hold; null inside a key that is not a DSN */
  let current: { dsn: RegistryDsn; values: RegistryValue[] } | null | undefined;
  const warnedBelow = new Set<string>();
  for (const { text: raw, line } of lines.slice(first + 1)) {
    const text = raw.trim();
    if (text === '' || text.startsWith(';')) continue;
    if (text.startsWith('[')) {
      current = openKey(text, line, source, byKey, warnedBelow, problems);
      continue;
    }
    if (current === undefined) {
      problems.push({
        severity: 'error',
        source,
        line,
        message: 'this value comes before any [key] line',
        fix: 'put it under the [HKEY_...\\ODBC.INI\\<DSN>] key it belongs to',
      });
      continue;
    }
    if (current === null) continue;
    const value = parseValueLine(text, line, source, current.dsn.name, problems);
    if (value) current.values.push(value);
  }

  const dsns = [...byKey.values()].map(({ dsn, values }) => ({ ...dsn, values }));
  if (dsns.length === 0 && !problems.some((p) => p.severity === 'error')) {
    problems.push({
      severity: 'error',
      source,
      message: 'the export holds no DSN (no key below SOFTWARE\\ODBC\\ODBC.INI)',
      fix: 'export HKEY_LOCAL_MACHINE\\SOFTWARE\\ODBC\\ODBC.INI (system DSNs) or HKEY_CURRENT_USER\\SOFTWARE\\ODBC\\ODBC.INI (user DSNs)',
    });
  }
  return { dsns, problems };
}

function openKey(
  text: string,
  line: number,
  source: string,
  byKey: Map<string, { dsn: RegistryDsn; values: RegistryValue[] }>,
  warnedBelow: Set<string>,
  problems: ConfigProblem[],
): { dsn: RegistryDsn; values: RegistryValue[] } | null {
  const close = text.lastIndexOf(']');
  const path = text.slice(1, close === -1 ? undefined : close).trim();
  // `[-KEY]` deletes a key when the file is imported; there is nothing to read in it
  if (path.startsWith('-')) return null;
  const key = classifyOdbcKey(path);
  if (key.kind === 'below-dsn') {
    if (!warnedBelow.has(key.dsn.toLowerCase())) {
      warnedBelow.add(key.dsn.toLowerCase());
      problems.push({
        severity: 'warning',
        source,
        line,
        dsn: key.dsn,
        message: `the subkey ${path} is ignored: a DSN's options are the values of its own key`,
      });
    }
    return null;
  }
  if (key.kind === 'other') return null;
  const existing = byKey.get(path.toLowerCase());
  if (existing) return existing;
  const entry = {
    dsn: { name: key.dsn, values: [], line, hive: key.hive, bits: key.bits, key: path },
    values: [] as RegistryValue[],
  };
  byKey.set(path.toLowerCase(), entry);
  return entry;
}

/** `"Name"=data` or `@=data`; undefined (with a problem when it matters) when not usable. */
function parseValueLine(
  text: string,
  line: number,
  source: string,
  dsn: string,
  problems: ConfigProblem[],
): RegistryValue | undefined {
  const at = { source, line, dsn };
  let name: string;
  let rest: string;
  if (text.startsWith('@')) {
    // the key's default value: ODBC keeps no option there
    return undefined;
  } else {
    const quoted = readQuoted(text, 0);
    if (!quoted) {
      problems.push({
        ...at,
        severity: 'error',
        message: `"${text.slice(0, 40)}" is not a "Name"=value line`,
        fix: 'write values as "Name"="value" (regedit writes them so)',
      });
      return undefined;
    }
    name = quoted.value;
    rest = text.slice(quoted.end).trimStart();
  }
  if (!rest.startsWith('=')) {
    problems.push({
      ...at,
      key: name,
      severity: 'error',
      message: 'the value name is not followed by "="',
      fix: 'write it as "Name"="value"',
    });
    return undefined;
  }
  const data = decodeData(rest.slice(1).trim());
  if ('value' in data) return { name, value: data.value, line };
  problems.push({ ...at, key: name, ...data.problem });
  return undefined;
}

type Decoded = { value: string } | { problem: Pick<ConfigProblem, 'severity' | 'message' | 'fix'> };

/** regedit's `hex(N):` type numbers */
const REG_TYPES: Readonly<Record<string, string>> = {
  '0': 'REG_NONE',
  '1': 'REG_SZ',
  '2': 'REG_EXPAND_SZ',
  '3': 'REG_BINARY',
  '4': 'REG_DWORD',
  '5': 'REG_DWORD_BIG_ENDIAN',
  '6': 'REG_LINK',
  '7': 'REG_MULTI_SZ',
  '8': 'REG_RESOURCE_LIST',
  b: 'REG_QWORD',
};

function decodeData(data: string): Decoded {
  if (data.startsWith('"')) {
    const quoted = readQuoted(data, 0);
    if (!quoted || data.slice(quoted.end).trim() !== '') {
      return {
        problem: {
          severity: 'error',
          message: 'the string value has no closing quote',
          fix: 'end it with "; write a quote inside it as \\" and a backslash as \\\\',
        },
      };
    }
    return { value: quoted.value };
  }
  const dword = /^dword:([0-9a-f]{1,8})$/i.exec(data);
  if (dword) return { value: String(parseInt(dword[1]!, 16)) };
  if (data === '-') {
    return {
      problem: {
        severity: 'warning',
        message: 'the line deletes this value on import ("Name"=-), so the DSN does not have it',
      },
    };
  }
  const hex = /^hex(?:\(([0-9a-f]+)\))?:([0-9a-f,\s]*)$/i.exec(data);
  if (!hex) {
    return {
      problem: {
        severity: 'error',
        message: `"${data.slice(0, 20)}" is not a value regedit writes ("string", dword:, hex:)`,
        fix: 'write the option as a string: "Name"="value"',
      },
    };
  }
  const code = (hex[1] ?? '3').toLowerCase().replace(/^0+(?=.)/, '');
  const type = REG_TYPES[code] ?? `registry value of type ${code}`;
  const bytes = Buffer.from(
    hex[2]!
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '')
      .map((b) => parseInt(b, 16)),
  );
  // strings in hex form are UTF-16LE ending in a NUL; a qword is 8 little-endian bytes
  const value =
    type === 'REG_QWORD' && bytes.length === 8
      ? bytes.readBigUInt64LE().toString()
      : bytes.toString('utf16le').replace(/\0+$/, '');
  const problem = unusableRegistryValue(type, value);
  return problem ? { problem } : { value };
}

/** A regedit-quoted string starting at `from`: `\\` is a backslash, `\"` a quote. */
function readQuoted(text: string, from: number): { value: string; end: number } | undefined {
  if (text[from] !== '"') return undefined;
  let out = '';
  for (let i = from + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (text[i + 1] === '\\' || text[i + 1] === '"')) {
      out += text[i + 1];
      i++;
    } else if (c === '"') {
      return { value: out, end: i + 1 };
    } else {
      out += c;
    }
  }
  return undefined;
}
