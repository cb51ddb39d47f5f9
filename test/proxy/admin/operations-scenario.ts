/**
 * A whole tokenshim as a person runs it, for the admin-route, status-page and no-leak tests: a
 * real OAuth server (oidc-provider), a real upstream, the real token engine and proxy, with the
 * metrics, logs and admin routes `tokenshim serve` has (lib/app/start-tokenshim.ts), every log line
 * captured.
 *
 * DSNs (from a real odbc.ini in a temp dir):
 * - crm:    54 refresh token (client_secret_basic), Authorization header
 * - mkto:   53 client credentials (client_secret_post), token in the `access_token` query parameter
 * - erp:    54 with a refresh token the server refuses: needs login
 * - static: 34 a static SecurityToken
 * - down:   53 whose TokenURI answers nothing (a closed port)
 */
import { createServer } from 'node:http';
import type { Test } from 'tap';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import { loadConfig } from '../../../lib/config/load.js';
import { createLogger } from '../../../lib/log/logger.js';
import { startTokenshim } from '../../../lib/app/start-tokenshim.js';
import type { TokenshimServer } from '../../../lib/proxy/server.js';
import { CLIENTS, startOAuthServer, type OAuthServer } from '../../fixtures/oauth-server.js';
import { tempDir } from '../../fixtures/temp-config.js';
import { startUpstream, type Upstream } from '../../fixtures/upstream.js';

export const ERP_REFRESH_TOKEN = 'erp-refresh-token-revoked-0123456789';
export const STATIC_SECURITY_TOKEN = 'static-security-token-0123456789';
export const DOWN_CLIENT_SECRET = 'down-client-secret-0123456789';

export interface OperationsScenario {
  readonly oauth: OAuthServer;
  readonly upstream: Upstream;
  readonly proxy: TokenshimServer;
  readonly configPath: string;
  readonly dsns: readonly DsnConfig[];
  /** every secret written into the config */
  readonly configuredSecrets: readonly string[];
  /** every token value the OAuth server issued so far (access, refresh, client credentials, codes) */
  issuedTokens(): string[];
  /** every log line so far (JSON, one per line) */
  logs(): string;
  /** the upstream answers 401 to this token from now on (a token revoked early) */
  revoke(token: string): void;
}

export async function startOperationsScenario(t: Test): Promise<OperationsScenario> {
  const oauth = await startOAuthServer({ accessTokenTtlSeconds: 3600 });
  t.teardown(() => oauth.close());
  const issued = new Set<string>();
  for (const kind of [
    'access_token',
    'refresh_token',
    'client_credentials',
    'authorization_code',
  ]) {
    oauth.provider.on(`${kind}.saved`, ((token: { jti: string }) =>
      issued.add(token.jti)) as never);
  }

  const revoked = new Set<string>();
  const upstream = await startUpstream(t, {
    handler: (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ')
        ? auth.slice(7)
        : (url.searchParams.get('access_token') ?? '');
      if (token === '' || revoked.has(token)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        return void res.end('{"error":"invalid_token"}');
      }
      if (url.pathname.endsWith('/broken')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end('{"error":"upstream broke"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, path: url.pathname }));
    },
  });

  const closedPort = await freePort();
  const crmRefreshToken = await oauth.issueRefreshToken(CLIENTS.basic.clientId);
  const { write } = tempDir(t);
  const configPath = write(
    'odbc.ini',
    [
      '[crm]',
      'AuthenticationMethod=54',
      `ClientID=${CLIENTS.basic.clientId}`,
      `ClientSecret=${CLIENTS.basic.clientSecret}`,
      `RefreshToken=${crmRefreshToken}`,
      `TokenURI=POST ${oauth.tokenEndpoint}`,
      `HostName=${upstream.origin}/crm/v1`,
      '',
      '[mkto]',
      'AuthenticationMethod=53',
      `ClientID=${CLIENTS.post.clientId}`,
      `ClientSecret=${CLIENTS.post.clientSecret}`,
      'ClientCredentialsMode=3',
      `TokenURI=POST ${oauth.tokenEndpoint}`,
      'TokenPlacement=query:access_token',
      `HostName=${upstream.origin}/rest`,
      '',
      '[erp]',
      'AuthenticationMethod=54',
      `ClientID=${CLIENTS.basic.clientId}`,
      `ClientSecret=${CLIENTS.basic.clientSecret}`,
      `RefreshToken=${ERP_REFRESH_TOKEN}`,
      `TokenURI=POST ${oauth.tokenEndpoint}`,
      `HostName=${upstream.origin}/erp`,
      '',
      '[static]',
      'AuthenticationMethod=34',
      `SecurityToken=${STATIC_SECURITY_TOKEN}`,
      `HostName=${upstream.origin}/static`,
      '',
      '[down]',
      'AuthenticationMethod=53',
      'ClientID=down-client',
      `ClientSecret=${DOWN_CLIENT_SECRET}`,
      `TokenURI=POST http://127.0.0.1:${closedPort}/token`,
      `HostName=${upstream.origin}/down`,
      '',
    ].join('\n'),
  );
  const loaded = await loadConfig({ configPath });
  if (loaded.problems.some((p) => p.severity === 'error')) {
    throw new Error(`scenario config: ${loaded.problems.map((p) => p.message).join('; ')}`);
  }

  let logText = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ destination, level: 'debug' });
  const proxy = await startTokenshim({
    dsns: loaded.dsns,
    port: 0,
    env: {},
    logger,
    store: new MemoryTokenStore(),
    processMetrics: false,
    readyTokenTimeoutMs: 5_000,
  });
  t.teardown(() => proxy.close({ drainMs: 0 }));

  return {
    oauth,
    upstream,
    proxy,
    configPath,
    dsns: loaded.dsns,
    configuredSecrets: [
      CLIENTS.basic.clientSecret,
      CLIENTS.post.clientSecret,
      crmRefreshToken,
      ERP_REFRESH_TOKEN,
      STATIC_SECURITY_TOKEN,
      DOWN_CLIENT_SECRET,
    ],
    issuedTokens: () => [...issued],
    logs: () => logText,
    revoke: (token) => revoked.add(token),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
