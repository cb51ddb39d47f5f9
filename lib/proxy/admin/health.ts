import { sendJson } from '../../http/problem.js';
import type { AdminRoute } from './admin-routes.js';

/** Liveness: the process answers. Readiness (tokens valid) is /_tokenshim/ready's business. */
export const healthRoute: AdminRoute = {
  method: ['GET', 'HEAD'],
  path: 'health',
  // a load balancer in front of several tokenshims asks from another machine; "ok" tells nothing
  public: true,
  summary: 'liveness: 200 while the proxy answers',
  handle: ({ res }) => sendJson(res, 200, { status: 'ok' }),
};
