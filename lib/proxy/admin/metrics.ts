import { sendText } from '../../http/problem.js';
import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import type { AdminRoute } from './admin-routes.js';

/** GET /_tokenshim/metrics: Prometheus text exposition of this instance's registry. */
export function metricsRoute(metrics: ProxyMetrics): AdminRoute {
  return {
    method: ['GET', 'HEAD'],
    path: 'metrics',
    summary: 'Prometheus metrics',
    async handle({ res, server }) {
      const { contentType, body } = await metrics.render((dsn) => server.provider(dsn)?.status());
      sendText(res, 200, contentType, body);
    },
  };
}
