import { systemClock, type Clock } from '../../clock.js';
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import { AdminRoutes } from './admin-routes.js';
import { healthRoute } from './health.js';
import { metricsRoute } from './metrics.js';
import { readyRoute } from './ready.js';
import { refreshRoute } from './refresh-route.js';
import { reloadRoute } from './reload.js';
import { statusRoute } from './status.js';
import { tokenRoute } from './token-route.js';

export interface AdminRoutesOptions {
  /** the registry the observers feed: /metrics renders it, /status shows its request counts */
  readonly metrics: ProxyMetrics;
  readonly clock?: Clock;
  /** shown on the status page; default package.json's */
  readonly version?: string;
  /** how long /_tokenshim/ready waits for a DSN's token; default 10 s */
  readonly readyTokenTimeoutMs?: number;
}

/** Every route under `/_tokenshim/`, in the order a 404 lists them. */
export function adminRoutes(opts: AdminRoutesOptions): AdminRoutes {
  const clock = opts.clock ?? systemClock;
  const { metrics, version, readyTokenTimeoutMs } = opts;
  return new AdminRoutes()
    .add(healthRoute)
    .add(readyRoute({ clock, tokenTimeoutMs: readyTokenTimeoutMs }))
    .add(metricsRoute(metrics))
    .add(statusRoute({ metrics, clock, version }))
    .add(reloadRoute)
    .add(refreshRoute)
    .add(tokenRoute);
}
