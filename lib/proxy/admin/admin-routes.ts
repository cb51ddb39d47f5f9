import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminKeyError, AdminRouteError } from '../../errors.js';
import { sendKeyRefusal } from '../access/client-key.js';
import type { KeyGate } from '../access/key-gate.js';
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
  /** compares the keys clients present (AdminKey), throttled per address */
  readonly keys: KeyGate;
}

export interface AdminRoute {
  readonly method: string | readonly string[];
  /** `health`, or a prefix ending in `/` (`status/`) that matches everything under it */
  readonly path: string;
  /**
   * answered to clients on other machines without an AdminKey (health: it says only "up"); every
   * other route is for this machine, or for callers that present an AdminKey
   */
  readonly public?: boolean;
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

/**
 * Admin routes are for this machine. A caller on another one (tokenshim serve --allow-remote) is
 * answered only when it presents an AdminKey of any DSN, checked by the key gate (constant time,
 * throttled); without any AdminKey configured, never. Returns false after answering.
 */
function admitRemote(ctx: Omit<AdminContext, 'path' | 'query'>, path: string): boolean {
  const adminKeys = ctx.server
    .dsns()
    .flatMap((d) => (d.adminKey === undefined ? [] : [d.adminKey]));
  if (adminKeys.length === 0) {
    sendProblem(
      ctx.res,
      new AdminRouteError(
        403,
        `/_tokenshim/${path} is only answered to clients on this machine; set an AdminKey on a DSN ` +
          'and send it in X-Tokenshim-Admin-Key to call it from elsewhere.',
      ),
    );
    return false;
  }
  const verdict = ctx.keys.check(
    {
      kind: 'admin_key',
      address: ctx.req.socket.remoteAddress ?? 'unknown',
      presented: headerValue(ctx.req, ADMIN_KEY_HEADER),
    },
    adminKeys,
  );
  if (verdict === 'ok') return true;
  sendKeyRefusal(
    ctx.res,
    verdict === 'missing' || verdict === 'wrong'
      ? new AdminKeyError(
          `/_tokenshim/${path} from another machine needs an AdminKey in the X-Tokenshim-Admin-Key header.`,
        )
      : verdict,
    'tokenshim admin',
  );
  return false;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

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
    if (!ctx.fromLoopback && !route.public && !admitRemote(ctx, path)) return;
    await route.handle({ ...ctx, path, query });
  }
}
