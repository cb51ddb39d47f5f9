import type { LinkRewrite } from './link-rewrite.js';

/**
 * Every DSN on the gateway shares one origin (`http://127.0.0.1:8790`), and a cookie jar keys
 * cookies by host and path only (RFC 6265 8.5: not even the port separates them). A cookie one
 * upstream sets with `Path=/` would go to every other DSN's upstream. So each Set-Cookie is scoped
 * to the route the client used:
 *
 * - `Domain` is dropped: the cookie belongs to the host the client spoke to, no wider (through the
 *   forward proxy, `Domain=example.com` would reach another DSN's `files.example.com`);
 * - on the gateway, `Path` is mapped under `/<DSN>` as Location is (`Path=/` becomes `/<DSN>`,
 *   `/v1/x` under a `/v1` HostName becomes `/<DSN>/x`), and a cookie without a usable Path gets
 *   `/<DSN>`: the default path of a request to `/<DSN>?x` would be `/`. A Path outside the
 *   HostName's path is narrowed to the DSN.
 *
 * A dedicated port maps paths the same way (its paths are HostName's, minus HostName's path), but
 * cookies do not tell ports apart: a DSN whose upstream sets cookies belongs on the gateway
 * (README, Security).
 */
export function scopeSetCookie(value: string, r: LinkRewrite): string {
  const parts = value.split(';');
  const out = [parts[0]!];
  let path: string | undefined;
  let pathAt = -1;
  for (let i = 1; i < parts.length; i++) {
    const attribute = parts[i]!.trim();
    if (attribute === '') continue;
    const eq = attribute.indexOf('=');
    const name = (eq === -1 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    if (name === 'domain') continue;
    if (name === 'path') {
      // the last Path wins (RFC 6265 5.3 step 7); it stays where it was written
      path = eq === -1 ? '' : attribute.slice(eq + 1).trim();
      if (pathAt === -1) pathAt = out.push('') - 1;
      continue;
    }
    out.push(attribute);
  }
  const scoped = scopedPath(path, r);
  if (scoped === undefined) {
    if (pathAt !== -1) out.splice(pathAt, 1);
  } else if (pathAt === -1) {
    out.push(`Path=${scoped}`);
  } else {
    out[pathAt] = `Path=${scoped}`;
  }
  return out.join('; ');
}

/** The Path the client's jar keeps the cookie under; undefined: none (the jar's default). */
function scopedPath(path: string | undefined, r: LinkRewrite): string | undefined {
  // RFC 6265 5.2.4: a Path that does not start with `/` is as good as none
  const usable = path !== undefined && path.startsWith('/') ? path : undefined;
  if (usable === undefined) return r.publicBasePath === '' ? undefined : r.publicBasePath;
  const base = r.upstreamBasePath;
  // outside the HostName's path: the client cannot reach it; the route as a whole, no wider
  let rest = '';
  if (base === '') rest = usable;
  else if (usable === base || usable.startsWith(`${base}/`)) rest = usable.slice(base.length);
  if (r.publicBasePath === '') return rest === '' ? '/' : rest;
  return r.publicBasePath + (rest === '/' ? '' : rest);
}
