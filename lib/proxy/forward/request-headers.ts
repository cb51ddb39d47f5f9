import type { AttachedCredential } from '../../auth/credential.js';
import { HOP_BY_HOP_REQUEST, connectionListedNames, withoutListed } from './hop-by-hop.js';

/** tokenshim's own request header: the user a per-user DSN issues the token for; never forwarded. */
export const USER_HEADER = 'x-tokenshim-user';

/**
 * `X-Tokenshim-*` are tokenshim's own request headers (the user, the admin and client keys): they
 * are meant for tokenshim, and a key sent upstream would hand it to whoever runs the API.
 */
export function isOwnHeader(lowerName: string): boolean {
  return lowerName.startsWith('x-tokenshim-');
}

export interface UpstreamRequestHead {
  /** flat `[name, value, name, value, ...]`, the form undici takes without copying */
  readonly headers: string[];
  /** -1 when the client sent no Content-Length */
  readonly contentLength: number;
  /** the client sent a body (Content-Length > 0 or Transfer-Encoding) */
  readonly hasBody: boolean;
}

export interface RequestHeadOptions {
  readonly credential: AttachedCredential;
  readonly stripAuthorization: boolean;
  /** Host for the upstream: `api.example.com` or `host:port` */
  readonly upstreamHost: string;
  /** the scheme the client spoke to tokenshim */
  readonly clientProto: 'http' | 'https';
  readonly clientAddress: string | undefined;
}

/**
 * One pass over the client's raw headers: hop-by-hop fields (and any named in Connection) go, as
 * do tokenshim's own X-Tokenshim-* fields, the client's Authorization for OAuth DSNs and every
 * field the credential sets (it replaces same-named ones); Host becomes the upstream's and
 * X-Forwarded-For/-Proto/-Host are added.
 */
export function buildRequestHead(
  raw: readonly string[],
  o: RequestHeadOptions,
): UpstreamRequestHead {
  const out: string[] = [];
  const credHeaders = o.credential.headers;
  // usually one name (authorization): a tiny array beats a Set here
  let credNames: string[] | undefined;
  if (credHeaders.length > 0) {
    credNames = new Array<string>(credHeaders.length);
    for (let i = 0; i < credHeaders.length; i++) credNames[i] = credHeaders[i]![0].toLowerCase();
  }
  let contentLength = -1;
  let chunked = false;
  let connection: string | undefined;
  let clientHost: string | undefined;
  let forwardedFor: string | undefined;

  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP_REQUEST.has(lower)) {
      if (lower === 'host') clientHost = value;
      else if (lower === 'connection')
        connection = connection === undefined ? value : `${connection}, ${value}`;
      else if (lower === 'transfer-encoding') chunked = true;
      continue;
    }
    switch (lower) {
      case 'content-length':
        contentLength = Number(value);
        break;
      case 'authorization':
        if (o.stripAuthorization) continue;
        break;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
        continue;
    }
    if (isOwnHeader(lower)) continue;
    if (credNames !== undefined && credNames.includes(lower)) continue;
    out.push(name, value);
  }

  const listed = connectionListedNames(connection);
  const headers = listed === undefined ? out : withoutListed(out, listed);
  headers.push('host', o.upstreamHost);
  for (let i = 0; i < credHeaders.length; i++) headers.push(credHeaders[i]![0], credHeaders[i]![1]);
  const address = o.clientAddress ?? 'unknown';
  headers.push(
    'x-forwarded-for',
    forwardedFor === undefined ? address : `${forwardedFor}, ${address}`,
  );
  headers.push('x-forwarded-proto', o.clientProto);
  if (clientHost !== undefined) headers.push('x-forwarded-host', clientHost);
  return { headers, contentLength, hasBody: chunked || contentLength > 0 };
}

/** Replaces the credential's headers in a head built for an earlier credential (the replay path). */
export function replaceCredentialHeaders(
  headers: readonly string[],
  previous: AttachedCredential,
  next: AttachedCredential,
): string[] {
  const names = new Set([...previous.headers, ...next.headers].map(([n]) => n.toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [name, value] of next.headers) out.push(name, value);
  return out;
}
