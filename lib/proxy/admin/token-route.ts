import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TokenExposureError, UnknownDsnError, UserRequiredError } from '../../errors.js';
import { USER_HEADER } from '../forward/request-headers.js';
import { asTokenshimError, sendJson, sendProblem } from '../../http/problem.js';
import type { AdminRoute } from './admin-routes.js';

/** the header that carries a DSN's AdminKey */
export const ADMIN_KEY_HEADER = 'x-tokenshim-admin-key';

/**
 * POST /_tokenshim/token/<DSN>: a current access token as JSON, for a web backend that
 * hands tokens to qlik-embed in the browser. Off unless the DSN sets ExposeTokens=1 (which needs
 * an AdminKey); answered only to loopback callers that present the key, and, for per-user DSNs,
 * name the user in X-Tokenshim-User. The token is the one the proxy attaches (same cache, same
 * refresh ahead of expiry).
 */
export const tokenRoute: AdminRoute = {
  method: 'POST',
  path: 'token/',
  loopbackOnly: true,
  summary: 'a current access token as JSON (DSNs with ExposeTokens=1; AdminKey required)',
  async handle({ req, res, server, path }) {
    const name = decodeSegment(path.slice('token/'.length));
    const provider = name === undefined ? undefined : server.provider(name);
    if (name === undefined || provider === undefined) {
      return sendProblem(
        res,
        new UnknownDsnError(
          name ?? path,
          server.dsns().map((d) => d.name),
        ),
      );
    }
    const dsn = provider.dsn;
    if (!dsn.exposeTokens || dsn.adminKey === undefined) {
      return sendProblem(
        res,
        new TokenExposureError(
          403,
          dsn.name,
          `DSN "${dsn.name}" does not hand out tokens. Set ExposeTokens=1 and an AdminKey in its section ` +
            'to allow POST /_tokenshim/token/' +
            dsn.name +
            '.',
        ),
      );
    }
    if (!sameKey(header(req, ADMIN_KEY_HEADER), dsn.adminKey)) {
      return sendProblem(
        res,
        new TokenExposureError(
          401,
          dsn.name,
          `POST /_tokenshim/token/${dsn.name} needs the DSN's AdminKey in the X-Tokenshim-Admin-Key header.`,
        ),
      );
    }
    const user = header(req, USER_HEADER);
    if (provider.perUser && !user) return sendProblem(res, new UserRequiredError(dsn.name));
    let credential;
    try {
      credential = await provider.credential(provider.perUser ? { user: user! } : {});
    } catch (e) {
      return sendProblem(res, asTokenshimError(e, dsn.name));
    }
    if (credential.accessToken === undefined || credential.expiresAt === undefined) {
      return sendProblem(
        res,
        new TokenExposureError(
          409,
          dsn.name,
          `DSN "${dsn.name}" uses a static credential (AuthenticationMethod=${dsn.effectiveMethod.code}), ` +
            'not an OAuth token: there is no token to hand out.',
        ),
      );
    }
    sendJson(res, 200, {
      access_token: credential.accessToken,
      token_type: credential.tokenType ?? 'Bearer',
      expires_in: Math.max(0, Math.floor((credential.expiresAt - Date.now()) / 1000)),
    });
  },
};

/** Constant time in the key's content: both sides are hashed to the same length first. */
function sameKey(presented: string | undefined, expected: string): boolean {
  const a = createHash('sha256')
    .update(presented ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && presented !== undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
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
