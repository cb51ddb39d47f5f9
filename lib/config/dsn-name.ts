/**
 * Which DSN names tokenshim can serve. A name is the first path segment of the gateway URL,
 * percent-encoded (`Marketo Prod` is `/Marketo%20Prod/...`), so spaces, accents and punctuation
 * are fine; refused are only the names that would route somewhere else or nowhere.
 */

/** The admin prefix's segment: `/_tokenshim/...` is tokenshim's own, never a DSN. */
export const ADMIN_SEGMENT = '_tokenshim';

/** C0 controls, DEL and C1 controls: no one types them into a URL, and they garble log lines. */
function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/** Why `name` cannot be a DSN name, or undefined when it can. */
export function dsnNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'the DSN name is empty';
  if (hasControlCharacter(name))
    return 'the DSN name contains a control character (a tab, a line break...), which cannot be typed into a URL';
  if (name.includes('/'))
    return 'the DSN name contains "/", which would split it into two segments of the URL path';
  if (name.includes('\\'))
    return 'the DSN name contains "\\", which browsers and HTTP clients turn into "/" in a URL';
  if (name === '.' || name === '..')
    return `the DSN name "${name}" is removed from URLs by HTTP clients (a dot segment)`;
  if (name.toLowerCase() === ADMIN_SEGMENT)
    return `the DSN name "${name}" is tokenshim's own path (/${ADMIN_SEGMENT}/ serves health, status and metrics)`;
  return undefined;
}
