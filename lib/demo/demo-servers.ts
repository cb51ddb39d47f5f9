import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.js';
import { DEMO_API_PATH, demoApi } from './demo-api.js';
import { DEMO_TOKEN_PATH, demoTokenEndpoint } from './demo-oauth-server.js';
import { DemoTokenLedger } from './demo-token-ledger.js';

export interface DemoServers {
  readonly ledger: DemoTokenLedger;
  /** `http://127.0.0.1:PORT/oauth2/token` */
  readonly tokenUrl: string;
  /** `http://127.0.0.1:PORT/api` */
  readonly apiUrl: string;
  /** the demo DSN's odbc.ini section */
  dsnSection(name: string): string;
  close(): Promise<void>;
}

/**
 * The demo's OAuth server and API, each on its own loopback port (never another address: the
 * demo is for this machine only), sharing one ledger of issued tokens.
 */
export async function startDemoServers(
  opts: { tokenSeconds?: number; clock?: Clock; gatewayUrl?: () => string | undefined } = {},
): Promise<DemoServers> {
  const ledger = new DemoTokenLedger({
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.tokenSeconds === undefined ? {} : { tokenSeconds: opts.tokenSeconds }),
  });
  const endpoint = demoTokenEndpoint(ledger);
  const oauth = createServer((req, res) => void endpoint(req, res).catch(() => res.destroy()));
  const api = createServer(demoApi(ledger, opts.gatewayUrl ? { gatewayUrl: opts.gatewayUrl } : {}));
  const [oauthPort, apiPort] = [await listen(oauth), await listen(api)];
  const tokenUrl = `http://127.0.0.1:${oauthPort}${DEMO_TOKEN_PATH}`;
  const apiUrl = `http://127.0.0.1:${apiPort}${DEMO_API_PATH}`;
  return {
    ledger,
    tokenUrl,
    apiUrl,
    dsnSection: (name) =>
      [
        `; tokenshim demo: a local OAuth server (tokens live ${ledger.lifetimeSeconds} s, refresh tokens rotate)`,
        '; and an API that accepts only live tokens, both on 127.0.0.1. Written by `tokenshim demo`.',
        `[${name}]`,
        'AuthenticationMethod=OAuth2-RefreshToken',
        `ClientID=${ledger.clientId}`,
        `ClientSecret=${ledger.clientSecret}`,
        `RefreshToken=${ledger.initialRefreshToken}`,
        `TokenURI=POST ${tokenUrl}`,
        `HostName=${apiUrl}`,
        '',
      ].join('\n'),
    close: async () => {
      await Promise.all([oauth, api].map(close));
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
