import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import { systemClock, type Clock } from '../../clock.js';
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import type { AdminHost } from './admin-host.js';
import { sendJson, sendText } from '../../http/problem.js';
import type { AdminRoute } from './admin-routes.js';
import { renderStatusPage } from './status-page.js';
import { buildStatusView, type StatusView } from './status-view.js';

export interface StatusRouteOptions {
  readonly metrics: ProxyMetrics;
  readonly clock?: Clock;
  /** shown on the page; default package.json's version */
  readonly version?: string;
}

/**
 * GET /_tokenshim/status: every DSN's method, upstream, token state and request counts, as HTML
 * for a person and as JSON for `Accept: application/json` (or `?format=json`).
 */
export function statusRoute(opts: StatusRouteOptions): AdminRoute {
  const clock = opts.clock ?? systemClock;
  const version = opts.version ?? packageVersion();
  return {
    method: ['GET', 'HEAD'],
    path: 'status',
    summary: 'status of every DSN (HTML, or JSON with Accept: application/json)',
    handle({ req, res, server, query }) {
      const view = statusOf(server, opts.metrics, clock.now(), version);
      if (wantsJson(req, query)) return sendJson(res, 200, view);
      sendText(res, 200, 'text/html; charset=utf-8', renderStatusPage(view), {
        // the page has no script and loads nothing: say so, so an injected value could not either
        'content-security-policy':
          "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
    },
  };
}

export function statusOf(
  server: AdminHost,
  metrics: ProxyMetrics,
  now: number,
  version: string,
): StatusView {
  const providers = server.providers();
  return buildStatusView(
    server.dsns().map((dsn) => ({
      dsn,
      status: providers.get(dsn.name)?.status() ?? { state: 'empty', tokenRequests: 0 },
      requests: metrics.forDsn(dsn.name).counts(),
      gatewayUrl: server.dedicatedUrl(dsn.name) ?? server.dsnUrl(dsn.name),
    })),
    { now, version },
  );
}

function wantsJson(req: IncomingMessage, query: string): boolean {
  const format = new URLSearchParams(query).get('format');
  if (format !== null) return format === 'json';
  const accept = req.headers.accept ?? '';
  // a browser sends text/html first; curl and scripts that ask for JSON get JSON
  return /\bapplication\/(?:[\w.+-]*\+)?json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../../../package.json', '../../../../package.json']) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch {
      // dist/lib/proxy/admin is one level deeper than lib/proxy/admin
    }
  }
  return 'unknown';
}
