import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminRouteError } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import type { AdminHost } from './admin-host.js';

export interface AdminContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly server: AdminHost;
  /** the path after `/_tokenshim/`, without the query (`health`, `status/marketo`) */
  readonly path: string;
  /** the query string without `?`, '' when none */
  readonly query: string;
  /** the request came from this machine (its socket's peer is a loopback address) */
  readonly fromLoopback: boolean;
}

export interface AdminRoute {
  readonly method: string | readonly string[];
  /** `health`, or a prefix ending in `/` (`status/`) that matches everything under it */
  readonly path: string;
  /** refuse requests whose peer is not loopback (state-changing routes) */
  readonly loopbackOnly?: boolean;
  readonly summary?: string;
  handle(ctx: AdminContext): void | Promise<void>;
}

/** the header that carries an AdminKey (POST /_tokenshim/token/<DSN>, remote admin calls) */
export const ADMIN_KEY_HEADER = 'x-tokenshim-admin-key';

/**
 * A header every state-changing admin request must carry. A form post or a simple fetch() cannot
 * add one, and a page that tries makes the browser ask first (a CORS preflight), which tokenshim
 * refuses: so a web page can never make the browser reload tokenshim, whatever else fails.
 */
export const ADMIN_INTENT_HEADER = 'x-tokenshim-admin';

const READ_ONLY = new Set(['GET', 'HEAD']);

function hasAdminIntent(req: IncomingMessage): boolean {
  return (
    req.headers[ADMIN_INTENT_HEADER] !== undefined || req.headers[ADMIN_KEY_HEADER] !== undefined
  );
}

/**
 * Everything under `/_tokenshim/` is tokenshim's own: a small table of routes matched by path and
 * method (lib/proxy/admin/index.ts lists tokenshim's).
 */
export class AdminRoutes {
  readonly #routes: AdminRoute[] = [];

  add(route: AdminRoute): this {
    this.#routes.push(route);
    return this;
  }

  list(): readonly AdminRoute[] {
    return this.#routes;
  }

  async handle(ctx: Omit<AdminContext, 'path' | 'query'>, pathAndQuery: string): Promise<void> {
    const q = pathAndQuery.indexOf('?');
    const path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
    const query = q === -1 ? '' : pathAndQuery.slice(q + 1);
    const matches = this.#routes.filter((r) =>
      r.path.endsWith('/') ? path.startsWith(r.path) : path === r.path,
    );
    if (matches.length === 0) {
      const known = this.#routes.map((r) => `/_tokenshim/${r.path}`).join(', ');
      return sendProblem(
        ctx.res,
        new AdminRouteError(404, `No admin route /_tokenshim/${path}; there are ${known}.`),
      );
    }
    const method = ctx.req.method ?? 'GET';
    const route = matches.find((r) =>
      typeof r.method === 'string' ? r.method === method : r.method.includes(method),
    );
    if (!route) {
      const allowed = matches.flatMap((r) =>
        typeof r.method === 'string' ? [r.method] : r.method,
      );
      ctx.res.setHeader('allow', allowed.join(', '));
      return sendProblem(
        ctx.res,
        new AdminRouteError(
          405,
          `/_tokenshim/${path} answers ${allowed.join(', ')}, not ${method}.`,
        ),
      );
    }
    if (!READ_ONLY.has(method) && !hasAdminIntent(ctx.req)) {
      return sendProblem(
        ctx.res,
        new AdminRouteError(
          403,
          `${method} /_tokenshim/${path} needs the header X-Tokenshim-Admin: 1 (or ` +
            'X-Tokenshim-Admin-Key with an AdminKey): a web page cannot send it from another site.',
        ),
      );
    }
    if (route.loopbackOnly && !ctx.fromLoopback) {
      return sendProblem(
        ctx.res,
        new AdminRouteError(
          403,
          `/_tokenshim/${path} is only answered to clients on this machine.`,
        ),
      );
    }
    await route.handle({ ...ctx, path, query });
  }
}
