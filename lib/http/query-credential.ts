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
  const kept: string[] = [];
  if (q !== -1) {
    for (const pair of path.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decodeName(eq === -1 ? pair : pair.slice(0, eq));
      if (!params.some(([n]) => n === name)) kept.push(pair);
    }
  }
  for (const [name, value] of params)
    kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${base}?${kept.join('&')}`;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}
