import { AdminKeyError, TokenExposureError, TokenshimError } from '../../errors.js';
import { sendKeyRefusal } from '../access/client-key.js';
import { asTokenshimError, sendJson, sendProblem } from '../../http/problem.js';
import { ADMIN_KEY_HEADER, type AdminRoute } from './admin-routes.js';
import { dsnRouteTarget, headerValue } from './dsn-route-target.js';

/**
 * POST /_tokenshim/token/<DSN>: a current access token as JSON, for a web backend that
 * hands tokens to qlik-embed in the browser. Off unless the DSN sets ExposeTokens=1 (which needs
 * an AdminKey); answered only to callers that present that DSN's key (checked by the key gate:
 * constant time, throttled) and, for per-user DSNs, name the user in X-Tokenshim-User. The token
 * is the one the proxy attaches (same cache, same refresh ahead of expiry).
 */
export const tokenRoute: AdminRoute = {
  method: 'POST',
  path: 'token/',
  summary: 'a current access token as JSON (DSNs with ExposeTokens=1; AdminKey required)',
  async handle({ req, res, server, path, keys }) {
    const target = dsnRouteTarget(req, server, path, 'token/');
    if (target instanceof TokenshimError) return sendProblem(res, target);
    const { provider, user, userMissing } = target;
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
    const verdict = keys.check(
      {
        kind: 'admin_key',
        dsn: dsn.name,
        address: req.socket.remoteAddress ?? 'unknown',
        presented: headerValue(req, ADMIN_KEY_HEADER),
      },
      [dsn.adminKey],
    );
    if (verdict !== 'ok') {
      const refusal =
        verdict === 'missing' || verdict === 'wrong'
          ? new AdminKeyError(
              `POST /_tokenshim/token/${dsn.name} needs the DSN's AdminKey in the X-Tokenshim-Admin-Key header.`,
              dsn.name,
            )
          : verdict;
      return sendKeyRefusal(res, refusal, 'tokenshim admin');
    }
    if (userMissing) return sendProblem(res, userMissing);
    let credential;
    try {
      credential = await provider.credential(user === undefined ? {} : { user });
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
