/**
 * ODBC connection strings (SQLDriverConnect grammar, MS-ODBCSTR): `;`-separated `key=value` pairs,
 * case-insensitive keys, `{braced}` values that may hold `;` and `=`, with `}}` for a literal `}`.
 * A line break also ends an unbraced value: DataDirect's documentation prints connection strings
 * over several lines, one of them without a `;` at its end, and users paste them as printed.
 */

export interface ConnectionStringPair {
  /** the key as written, trimmed */
  readonly key: string;
  readonly value: string;
  /** 0-based offset of the key in the string, for error messages */
  readonly offset: number;
}

export class ConnectionStringSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ConnectionStringSyntaxError';
    this.offset = offset;
  }
}

export function parseConnectionString(input: string): ConnectionStringPair[] {
  const pairs: ConnectionStringPair[] = [];
  let i = 0;
  const n = input.length;
  while (i < n) {
    const start = i;
    const eq = input.indexOf('=', i);
    const separator = endOfValue(input, i);
    if (eq === -1 || separator < eq) {
      const end = separator;
      const stray = input.slice(i, end).trim();
      if (stray !== '') {
        throw new ConnectionStringSyntaxError(
          `"${stray.slice(0, 40)}" at position ${start + 1} has no "=": write it as Key=Value`,
          start,
        );
      }
      i = end + 1;
      continue;
    }
    const key = input.slice(i, eq).trim();
    if (key === '') {
      throw new ConnectionStringSyntaxError(`empty key before "=" at position ${eq + 1}`, eq);
    }
    i = eq + 1;
    while (i < n && (input[i] === ' ' || input[i] === '\t')) i++;
    let value: string;
    if (input[i] === '{') {
      const open = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= n) {
          throw new ConnectionStringSyntaxError(
            `the value of ${key} opens "{" at position ${open + 1} but never closes it: ` +
              'end the value with "}" (and write a "}" inside it as "}}")',
            open,
          );
        }
        const c = input[i]!;
        if (c === '}') {
          if (input[i + 1] === '}') {
            out += '}';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        out += c;
        i++;
      }
      value = out;
      while (i < n && (input[i] === ' ' || input[i] === '\t')) i++;
      if (i < n && !isSeparator(input[i])) {
        throw new ConnectionStringSyntaxError(
          `unexpected text after the braced value of ${key} at position ${i + 1}: ` +
            'put ";" after "}"',
          i,
        );
      }
      i++;
    } else {
      const end = endOfValue(input, i);
      value = input.slice(i, end).trim();
      i = end + 1;
    }
    pairs.push({ key, value, offset: start });
  }
  return pairs;
}

/** Where an unbraced value ends: at the next `;` or line break, or at the end of the input. */
function endOfValue(input: string, from: number): number {
  for (let i = from; i < input.length; i++) if (isSeparator(input[i])) return i;
  return input.length;
}

function isSeparator(c: string | undefined): boolean {
  return c === ';' || c === '\n' || c === '\r';
}

/** Quotes a value so parseConnectionString returns it unchanged. */
export function formatConnectionStringValue(value: string): string {
  if (!/[;{}=\s]/.test(value) && value !== '') return value;
  return `{${value.replaceAll('}', '}}')}}`;
}
