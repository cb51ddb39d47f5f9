import { TokenshimError } from '../../errors.js';
import { asTokenshimError, sendJson, sendProblem } from '../../http/problem.js';
import type { AdminRoute } from './admin-routes.js';
import { dsnRouteTarget } from './dsn-route-target.js';

/**
 * POST /_tokenshim/refresh/<DSN>: replaces the DSN's token now, as `tokenshim token --force`
 * does (an upstream that rejects a token tokenshim cannot see is rejected: Marketo's 601 in a
 * 200). For this machine, like reload (from another one only with an AdminKey): it changes state. The answer says when the new token expires,
 * never the token; the rotated refresh token is saved before it is sent.
 */
export const refreshRoute: AdminRoute = {
  method: 'POST',
  path: 'refresh/',
  summary: "replace a DSN's token now (as tokenshim token --force)",
  async handle({ req, res, server, path }) {
    const target = dsnRouteTarget(req, server, path, 'refresh/');
    if (target instanceof TokenshimError) return sendProblem(res, target);
    const { provider, user, userMissing } = target;
    if (userMissing) return sendProblem(res, userMissing);
    const dsn = provider.dsn.name;
    let expiresAt: number | undefined;
    try {
      ({ expiresAt } = await provider.forceRefresh(user === undefined ? {} : { user }));
    } catch (e) {
      return sendProblem(res, asTokenshimError(e, dsn));
    }
    sendJson(res, 200, {
      status: 'refreshed',
      dsn,
      ...(user === undefined ? {} : { user }),
      ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt).toISOString() }),
      tokenRequests: provider.status().tokenRequests,
    });
  },
};
