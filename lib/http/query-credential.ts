/**
 * Sets a credential's query parameters (AttachedCredential.query) on an upstream path, replacing same-named ones and
 * leaving every other byte of the query as the client sent it (re-serialising with
 * URLSearchParams would turn `%20` into `+` and reorder nothing but still alter signatures).
 */
export function applyQueryCredential(
  path: string,
  credential: { readonly query: readonly (readonly [name: string, value: string])[] },
): string {
  const params = credential.query;
  if (params.length === 0) return path;
  const q = path.indexOf('?');
  const base = q === -1 ? path : path.slice(0, q);
  const kept =
    q === -1 ? '' : keptPairs(path.slice(q + 1), (name) => params.some(([n]) => n === name));
  const set = params.map(
    ([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
  );
  return `${base}?${kept === '' ? '' : `${kept}&`}${set.join('&')}`;
}

/**
 * A query string (without `?`) without the parameters whose decoded name `drop` picks, every other
 * pair byte for byte as it was; empty pairs (`a=1&&b=2`) go too.
 */
export function keptPairs(query: string, drop: (name: string) => boolean): string {
  const kept: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (!drop(decodeQueryComponent(eq === -1 ? pair : pair.slice(0, eq)))) kept.push(pair);
  }
  return kept.join('&');
}

/** A query parameter name or value as a server reads it (`+` is a space); malformed escapes kept as written. */
export function decodeQueryComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}
