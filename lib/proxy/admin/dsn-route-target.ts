import type { IncomingMessage } from 'node:http';
import type { CredentialProvider } from '../../auth/credential.js';
import { UnknownDsnError, UserRequiredError, type TokenshimError } from '../../errors.js';
import { USER_HEADER } from '../forward/request-headers.js';
import type { AdminHost } from './admin-host.js';

/** What a route under `/_tokenshim/<action>/<DSN>` acts on. */
export interface DsnRouteTarget {
  readonly provider: CredentialProvider;
  /** X-Tokenshim-User, for per-user DSNs (undefined for the others) */
  readonly user: string | undefined;
  /** for a per-user DSN without X-Tokenshim-User: what to answer once the route gets that far */
  readonly userMissing: UserRequiredError | undefined;
}

/**
 * The DSN named by the path segment after `prefix` (`token/`, `refresh/`), and the user for a
 * per-user DSN; or the error that says which DSNs exist.
 */
export function dsnRouteTarget(
  req: IncomingMessage,
  server: AdminHost,
  path: string,
  prefix: string,
): DsnRouteTarget | TokenshimError {
  const name = decodeSegment(path.slice(prefix.length));
  const provider = name === undefined ? undefined : server.provider(name);
  if (name === undefined || provider === undefined) {
    return new UnknownDsnError(
      name ?? path,
      server.dsns().map((d) => d.name),
    );
  }
  const user = provider.perUser ? headerValue(req, USER_HEADER) || undefined : undefined;
  const userMissing =
    provider.perUser && user === undefined ? new UserRequiredError(provider.dsn.name) : undefined;
  return { provider, user, userMissing };
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodeSegment(segment: string): string | undefined {
  if (segment === '' || segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
