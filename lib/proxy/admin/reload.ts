import { TokenshimError } from '../../errors.js';
import { asTokenshimError, sendJson, sendProblem } from '../../http/problem.js';
import type { AdminRoute } from './admin-routes.js';

/** POST /_tokenshim/reload: re-reads the config, as SIGHUP does. */
export const reloadRoute: AdminRoute = {
  method: 'POST',
  path: 'reload',
  summary: 're-read the configuration (as SIGHUP)',
  async handle({ res, server }) {
    try {
      const result = await server.reload();
      sendJson(res, 200, { status: 'reloaded', ...result });
    } catch (e) {
      sendProblem(res, e instanceof TokenshimError ? e : asTokenshimError(e, ''));
    }
  },
};
