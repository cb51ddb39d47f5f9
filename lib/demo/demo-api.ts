import type { IncomingMessage, ServerResponse } from 'node:http';
import { json } from './demo-oauth-server.js';
import type { DemoTokenLedger } from './demo-token-ledger.js';

/** The demo API lives under this path; the demo DSN's HostName ends with it. */
export const DEMO_API_PATH = '/api';

const ORDERS = Object.freeze([
  { id: 1001, customer: 'Alpine Outfitters', total: 1280.5, status: 'shipped' },
  { id: 1002, customer: 'Harbor Foods', total: 342.0, status: 'open' },
  { id: 1003, customer: 'Northwind Traders', total: 97.25, status: 'open' },
]);

/**
 * A small API that answers only requests carrying a live access token from the demo OAuth
 * server, as a real one would (RFC 6750 3.1 on refusal). Its answers say which token was used and
 * how long it has left, never the token itself.
 */
export function demoApi(
  ledger: DemoTokenLedger,
  opts: { gatewayUrl?: () => string | undefined } = {},
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = ledger.live(bearer);
    if (!token) {
      res.setHeader(
        'WWW-Authenticate',
        bearer === undefined
          ? 'Bearer realm="tokenshim demo"'
          : 'Bearer realm="tokenshim demo", error="invalid_token"',
      );
      return json(res, 401, {
        error: bearer === undefined ? 'no access token' : 'the access token is unknown or expired',
        hint: `call it through tokenshim, which attaches a live token: ${opts.gatewayUrl?.() ?? "the demo DSN's gateway URL"}${path.slice(DEMO_API_PATH.length)}`,
      });
    }
    const about = {
      demo: 'tokenshim demo API: this answer needed a live OAuth access token, and tokenshim attached one',
      token: { number: token.number, expiresInSeconds: token.expiresInSeconds },
    };
    if (path === `${DEMO_API_PATH}/orders`) return json(res, 200, { ...about, orders: ORDERS });
    if (path === DEMO_API_PATH || path === `${DEMO_API_PATH}/`) {
      return json(res, 200, { ...about, endpoints: [`${DEMO_API_PATH}/orders`] });
    }
    json(res, 404, { ...about, error: `no ${path} here; try ${DEMO_API_PATH}/orders` });
  };
}
