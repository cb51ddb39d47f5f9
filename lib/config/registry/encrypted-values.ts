import type { ConfigProblem } from '../problems.js';
import type { RawEntry } from '../resolve.js';

/**
 * DataDirect's ODBC Administrator encrypts secrets of Windows DSNs with its own key (documented
 * for SecurityToken). Its format is not published, so tokenshim recognises values no secret could
 * be as typed: characters that are no text (control characters, U+FFFD from undecodable bytes,
 * private-use code points), or a `{...}`-wrapped base64 blob. Such a value would reach the
 * server as garbage; it is refused with the way to give tokenshim the real value.
 */

const BRACED_BLOB = /^\{[A-Za-z0-9+/=_-]{16,}\}$/;

export function encryptedLooking(value: string): string | undefined {
  if ([...value].some(isNotText)) return 'it holds characters no typed secret has';
  if (BRACED_BLOB.test(value)) return 'it is a {braced} encoded blob';
  return undefined;
}

/**
 * Pushes an error for each secret option of a registry DSN whose value looks DataDirect-encrypted.
 * `isSecret` says which options hold secrets (the catalogue's and DataDirect's).
 */
export function reportEncryptedValues(
  section: { readonly name: string; readonly entries: readonly RawEntry[] },
  isSecret: (key: string) => boolean,
  problems: ConfigProblem[],
): void {
  for (const entry of section.entries) {
    if (!isSecret(entry.key)) continue;
    const why = encryptedLooking(entry.value);
    if (!why) continue;
    problems.push({
      severity: 'error',
      source: entry.origin.source,
      ...(entry.origin.line === undefined ? {} : { line: entry.origin.line }),
      dsn: section.name,
      key: entry.key,
      message: `the value looks encrypted by the DataDirect ODBC Administrator (${why}); DataDirect encrypts the secrets of Windows DSNs with its own key, which tokenshim cannot read`,
      fix: `give tokenshim the plain value without storing it in the registry: run tokenshim protect and set ${entry.key}=\${dpapi:...} (with regedit, or in --connect), or use ${entry.key}=\${env:NAME}`,
    });
  }
}

/** control characters but tab, DEL, the replacement character, private-use code points */
function isNotText(c: string): boolean {
  const code = c.codePointAt(0)!;
  return (
    (code < 0x20 && code !== 0x09) ||
    code === 0x7f ||
    code === 0xfffd ||
    (code >= 0xe000 && code <= 0xf8ff)
  );
}
