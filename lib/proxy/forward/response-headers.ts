import { HOP_BY_HOP_RESPONSE, connectionListedNames } from './hop-by-hop.js';
import { rewriteLinkHeader, rewriteUrl, type LinkRewrite } from './link-rewrite.js';

/**
 * One pass over the upstream's raw response headers: hop-by-hop fields (and any named in
 * Connection) go; Location, Content-Location and Link are pointed back at the client's route.
 * Values are decoded as latin1 so every byte goes back out unchanged (node writes latin1).
 * Returns the flat `[name, value, ...]` list ServerResponse#writeHead takes.
 */
export function buildResponseHead(
  raw: readonly (Buffer | string)[],
  rewrite: () => LinkRewrite,
): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = text(raw[i]!);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_RESPONSE.has(lower)) {
      if (lower === 'connection') connection = text(raw[i + 1]!);
      continue;
    }
    let value = text(raw[i + 1]!);
    if (lower === 'location' || lower === 'content-location') value = rewriteUrl(value, rewrite());
    else if (lower === 'link') value = rewriteLinkHeader(value, rewrite());
    out.push(name, value);
  }
  const listed = connectionListedNames(connection);
  if (listed === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    if (!listed.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!);
  }
  return kept;
}

function text(b: Buffer | string): string {
  return typeof b === 'string' ? b : b.toString('latin1');
}
