/**
 * Header lookups in raw `[name, value, name, value, ...]` lists, as node gives a request's
 * (`req.rawHeaders`) and undici a response's, without building a headers object per message.
 */

/** The first value of a header (`lowerName` in lower case) in a list of strings. */
export function findHeader(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

/** Every value of a header (`lowerName` in lower case) in undici's list of Buffers. */
export function responseHeaderValues(raw: readonly Buffer[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toString('latin1').toLowerCase() === lowerName)
      out.push(raw[i + 1]!.toString('latin1'));
  }
  return out;
}
