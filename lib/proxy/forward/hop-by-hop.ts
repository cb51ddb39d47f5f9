/**
 * Connection-specific header fields (RFC 9110 7.6.1, plus the legacy ones proxies still meet):
 * they describe one hop and are never forwarded. Names listed in `Connection` join them per
 * message. `expect` is here too: tokenshim answers `Expect: 100-continue` itself (node's server
 * sends the 100) and undici refuses to send it. `host` is replaced, not forwarded.
 */
export const HOP_BY_HOP_REQUEST: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
]);

export const HOP_BY_HOP_RESPONSE: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The extra names a `Connection` value lists (`close` and `keep-alive` are options, not names of
 * fields present); undefined in the common case so callers skip the extra filter.
 */
export function connectionListedNames(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  // nearly every message says just this; skip the split
  const plain = value.length <= 10 ? value.toLowerCase() : '';
  if (plain === 'keep-alive' || plain === 'close') return undefined;
  let names: Set<string> | undefined;
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    (names ??= new Set()).add(name);
  }
  return names;
}

/** A flat `[name, value, ...]` list without the fields a Connection header listed. */
export function withoutListed(headers: readonly string[], listed: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!listed.has(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}
