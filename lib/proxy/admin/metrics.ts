import type { ProxyMetrics } from '../../metrics/proxy-metrics.js';
import type { AdminRoute } from './admin-routes.js';

/** GET /_tokenshim/metrics: Prometheus text exposition of this instance's registry. */
export function metricsRoute(metrics: ProxyMetrics): AdminRoute {
  return {
    method: ['GET', 'HEAD'],
    path: 'metrics',
    summary: 'Prometheus metrics',
    async handle({ req, res, server }) {
      const { contentType, body } = await metrics.render((dsn) => server.provider(dsn)?.status());
      res.writeHead(200, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}
