import ini from 'ini';
import { UNSAFE_VALUE_CHARS, type ConfigProblem } from './problems.js';

/**
 * odbc.ini files. The `ini` package decodes values (quotes, escapes), but it treats `#` and `;` as
 * comment starts anywhere in a value: `ClientSecret=ab#cd;ef` would silently become `ab`. A shorter
 * secret fails far from its cause, so every value is checked against its raw line: a cut value is
 * kept whole when nothing suggests a comment, and refused (naming key, line and the quoting that
 * fixes it) when whitespace before the `#`/`;` makes it look like one.
 */

export interface IniEntry {
  /** the key as written */
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  readonly line: number;
  readonly entries: readonly IniEntry[];
}

/** Sections that belong to the ODBC driver manager, not to a DSN. */
export const ODBC_SYSTEM_SECTIONS: ReadonlySet<string> = new Set([
  'odbc data sources',
  'odbc',
  'odbc file dsn',
  'odbc drivers',
]);

export function parseOdbcIni(
  text: string,
  source: string,
): { sections: IniSection[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const sections: { name: string; line: number; entries: IniEntry[] }[] = [];
  let current: (typeof sections)[number] | undefined;
  const lines = text.replace(/^\uFEFF/, '').split('\n');

  lines.forEach((rawLine, index) => {
    const lineNo = index + 1;
    // CRLF files from Windows (where Qlik runs) are normal; a CR elsewhere in a line is not.
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;

    const header = /^\[(.*)\]\s*(?:[;#].*)?$/.exec(trimmed);
    if (header) {
      const name = header[1]!.trim();
      if (name === '') {
        problems.push({
          severity: 'error',
          source,
          line: lineNo,
          message: 'a section header "[]" has no name',
          fix: 'name the DSN, e.g. [marketo]',
        });
      }
      current = { name, line: lineNo, entries: [] };
      sections.push(current);
      return;
    }

    const eq = line.indexOf('=');
    if (eq === -1) {
      problems.push({
        severity: 'error',
        source,
        line: lineNo,
        ...(current ? { dsn: current.name } : {}),
        message: `"${trimmed.slice(0, 40)}" is neither a [section] nor a Key=Value line`,
        fix: 'write it as Key=Value, or start the line with ; to make it a comment',
      });
      return;
    }
    const key = line.slice(0, eq).trim();
    const rhs = line.slice(eq + 1).trim();
    if (!current) {
      problems.push({
        severity: 'error',
        source,
        line: lineNo,
        key,
        message: 'this option comes before any [DSN] section',
        fix: 'put it under a [section] header naming the DSN',
      });
      return;
    }
    if (UNSAFE_VALUE_CHARS.test(rhs)) {
      problems.push({
        severity: 'error',
        source,
        line: lineNo,
        dsn: current.name,
        key,
        message:
          'the value contains a carriage return or NUL character, which would end up in an HTTP header',
        fix: 'remove the control character (re-type the value in a plain text editor)',
      });
      return;
    }
    const decoded = decodeValue(rhs);
    if ('ambiguous' in decoded) {
      problems.push({
        severity: 'error',
        source,
        line: lineNo,
        dsn: current.name,
        key,
        message:
          `the value contains "${decoded.ambiguous}" after a space, which ini readers take for the start ` +
          'of a comment, so it is unclear where the value ends',
        fix: `if the text is part of the value, quote it: ${key}="..."; if it is a comment, move it to its own line`,
      });
      return;
    }
    current.entries.push({ key, value: decoded.value, line: lineNo });
  });

  return { sections, problems };
}

function decodeValue(rhs: string): { value: string } | { ambiguous: string } {
  const quoted = unquote(rhs);
  if (quoted !== undefined) return { value: quoted };
  if (/\\[;#]/.test(rhs)) return { value: ini.unsafe(rhs) };
  if (ini.unsafe(rhs) === rhs) return { value: rhs };
  // DataDirect's docs print `AuthenticationMethod=54;`: one trailing `;` is not part of the value.
  const body = rhs.endsWith(';') ? rhs.slice(0, -1).trimEnd() : rhs;
  if (ini.unsafe(body) === body) return { value: body };
  const comment = /\s([;#])/.exec(body);
  if (comment) return { ambiguous: ` ${comment[1]}` };
  return { value: body };
}

/**
 * A value in "double" or 'single' quotes, without them; undefined when the value is not quoted.
 * Backslashes inside stay as written, since quoting is how Windows paths are written
 * (`"C:\Program Files\x.json"`, `"C:\tokens\new.json"`): the `ini` package's JSON decoding
 * keeps the quotes on such a path, or turns `\t` and `\n` into control characters. Only a
 * backslash before the quote character itself escapes it. After the closing quote may come
 * DataDirect's trailing `;`, or a `;`/`#` comment after whitespace.
 */
function unquote(rhs: string): string | undefined {
  const q = rhs[0];
  if (q !== '"' && q !== "'") return undefined;
  let close = -1;
  for (let i = 1; i < rhs.length; i++) {
    if (rhs[i] === '\\' && rhs[i + 1] === q && i + 2 < rhs.length) i++;
    else if (rhs[i] === q) {
      close = i;
      break;
    }
  }
  if (close === -1) return undefined;
  const rest = rhs.slice(close + 1);
  if (!/^(?:;?\s*|\s+[;#].*)$/.test(rest)) return undefined;
  return rhs.slice(1, close).replaceAll(`\\${q}`, q);
}

/**
 * True when a buffer is not text an ini file could hold: invalid UTF-8, or NUL bytes beyond a stray
 * one (a single NUL inside a value is reported against that value instead).
 */
export function looksBinary(buf: Buffer): boolean {
  let nuls = 0;
  for (const b of buf) if (b === 0) nuls++;
  if (nuls > 1) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return false;
  } catch {
    return true;
  }
}
