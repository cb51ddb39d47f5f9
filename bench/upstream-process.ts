/**
 * The bench's upstream, in its own process so its CPU is not the proxies' or the load
 * generator's: two real OAuth servers (test/fixtures/oauth-server.ts; one with long-lived tokens
 * for the steady-state rounds, one whose tokens live `rolloverTtlSeconds` for the rollover run)
 * and the API every contestant forwards to, which accepts only tokens those servers issued and
 * that have not expired.
 *
 *   node dist/bench/upstream-process.js <rolloverTtlSeconds>
 */
import { rmSync } from 'node:fs';
import {
  CLIENTS,
  makeTestCertificates,
  startOAuthServer,
  type OAuthServer,
} from '../test/fixtures/oauth-server.js';
import { failToParent, serveParent } from './ipc.js';
import { TokenLedger, type LedgerCounts } from './upstream/token-ledger.js';
import { startUpstreamServer } from './upstream/upstream-server.js';

export interface UpstreamReady {
  readonly upstreamPort: number;
  /** tokens live an hour: no refresh during the rounds */
  readonly steadyTokenEndpoint: string;
  /** tokens live rolloverTtlSeconds */
  readonly rolloverTokenEndpoint: string;
  readonly rolloverTtlSeconds: number;
  /** the same API over HTTPS (certificate for 127.0.0.1 and localhost), for the CONNECT row */
  readonly httpsPort: number;
  /** the CA that signed the HTTPS certificate, PEM */
  readonly httpsCaPem: string;
  /** a client_secret_post client both servers know */
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface UpstreamStats {
  readonly tokens: LedgerCounts;
  /** requests that reached each token endpoint */
  readonly tokenRequests: { readonly steady: number; readonly rollover: number };
}

interface SavedToken {
  jti: string;
  exp?: number;
  iat?: number;
  expiration?: number;
}

/** Records every access token a server issues (opaque tokens: the value is the jti). */
function recordTokens(server: OAuthServer, ledger: TokenLedger): void {
  const onSaved = (token: SavedToken): void => {
    const exp = token.exp ?? (token.iat ?? Math.floor(Date.now() / 1000)) + (token.expiration ?? 0);
    ledger.issued(token.jti, exp);
  };
  for (const event of ['access_token.saved', 'client_credentials.saved']) {
    server.provider.on(event, onSaved);
  }
}

async function main(): Promise<void> {
  const rolloverTtlSeconds = Number(process.argv[2] ?? 2);
  const ledger = new TokenLedger();
  const steady = await startOAuthServer({ accessTokenTtlSeconds: 3600 });
  const rollover = await startOAuthServer({ accessTokenTtlSeconds: rolloverTtlSeconds });
  recordTokens(steady, ledger);
  recordTokens(rollover, ledger);
  const upstream = await startUpstreamServer(ledger);
  const certificates = makeTestCertificates();
  const secure = await startUpstreamServer(ledger, {
    key: certificates.serverKey,
    cert: certificates.serverCert,
  });

  const ready: UpstreamReady = {
    upstreamPort: upstream.port,
    steadyTokenEndpoint: steady.tokenEndpoint,
    rolloverTokenEndpoint: rollover.tokenEndpoint,
    rolloverTtlSeconds,
    httpsPort: secure.port,
    httpsCaPem: certificates.caPem,
    clientId: CLIENTS.post.clientId,
    clientSecret: CLIENTS.post.clientSecret,
  };
  serveParent(
    ready,
    {
      stats: (): UpstreamStats => ({
        tokens: ledger.counts(),
        tokenRequests: { steady: steady.tokenRequests, rollover: rollover.tokenRequests },
      }),
    },
    async () => {
      for (const { server } of [upstream, secure]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      rmSync(certificates.dir, { recursive: true, force: true });
      await Promise.all([steady.close(), rollover.close()]);
    },
  );
}

main().catch(failToParent);
