/**
 * No secret leaves tokenshim: a whole session as a person runs it (`tokenshim serve` with its real
 * logger at debug level, a real OAuth server, a real upstream; successes, upstream errors, a 401
 * replay, a token rejected inside a 200 body (RefreshOnBody), a 503 retried (RetryOnStatus), a DSN
 * that needs a login, a token endpoint that is down, unknown routes; the status page
 * as JSON and HTML, metrics, readiness; `tokenshim check` and `tokenshim token`), then every byte
 * tokenshim wrote is searched for every configured secret and every token the OAuth server issued.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { runCheck } from '../lib/cli/check.js';
import { runServe } from '../lib/cli/serve.js';
import { runToken } from '../lib/cli/token.js';
import type { TokenshimServer } from '../lib/proxy/server.js';
import { captureIo } from './fixtures/capture-io.js';
import { CLIENTS, startOAuthServer } from './fixtures/oauth-server.js';
import { tempDir } from './fixtures/temp-config.js';
import { startUpstream } from './fixtures/upstream.js';

const ERP_REFRESH_TOKEN = 'erp-refresh-token-revoked-0123456789';
const STATIC_SECURITY_TOKEN = 'static-security-token-0123456789';
const BASIC_PASSWORD = 'basic-password-0123456789';
const DOWN_CLIENT_SECRET = 'down-client-secret-0123456789';
const CLIENT_OWN_BEARER = 'client-own-bearer-0123456789';
const CLIENT_QUERY_TOKEN = 'client-query-token-0123456789';
/** live tokens in a 200 form-encoded token answer tokenshim cannot use (GitHub without Accept) */
const FORM_ACCESS_TOKEN = 'form-access-token-LIVE-0123456789';
const FORM_REFRESH_TOKEN = 'form-refresh-token-LIVE-0123456789';
/** a secret with slashes, which the echoing token endpoint writes JSON-escaped (`\/`) */
const ECHOED_CLIENT_SECRET = 'echoed/client/secret-0123456789';

/** The forms a secret can take on the way out: raw, URL-encoded, form-encoded, base64 in Basic. */
function forms(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams([['', secret]]).toString().slice(1),
      Buffer.from(secret).toString('base64').slice(0, 16),
      JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
    ]),
  ];
}

t.test(
  'no configured secret or issued token appears in logs, problem bodies, status or check output',
  async (t) => {
    const oauth = await startOAuthServer();
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
    let busy = 1;
    const upstream = await startUpstream(t, {
      handler: (req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const auth = req.headers.authorization ?? '';
        const token = auth.startsWith('Bearer ')
          ? auth.slice(7)
          : (url.searchParams.get('access_token') ?? '');
        if (url.pathname.startsWith('/basic/'))
          return void res.writeHead(auth.startsWith('Basic ') ? 200 : 401).end();
        if (url.pathname.startsWith('/rest/') && revoked.has(token)) {
          // Marketo's way: a 200 whose body says the token is invalid
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(`{"success":false,"errors":[{"code":"601","token":"${token}"}]}`);
        }
        if (url.pathname.endsWith('/busy') && busy-- > 0)
          return void res.writeHead(503, { 'retry-after': '0' }).end(`busy ${token}`);
        if (token === '' || revoked.has(token)) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return void res.end('{"error":"invalid_token"}');
        }
        if (url.pathname.endsWith('/broken')) return void res.writeHead(500).end('upstream broke');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      },
    });
    // a token endpoint that answers 200 form-encoded, and one that echoes the secret it got
    const quirky = createServer((req, res) => {
      if (req.url?.startsWith('/form')) {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' });
        return void res.end(
          `access_token=${FORM_ACCESS_TOKEN}&token_type=bearer&refresh_token=${FORM_REFRESH_TOKEN}`,
        );
      }
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(`{"message":"no such client secret ${ECHOED_CLIENT_SECRET.replaceAll('/', '\\/')}"}`);
    });
    await new Promise<void>((resolve) => quirky.listen(0, '127.0.0.1', resolve));
    t.teardown(() => quirky.close());
    const quirkyOrigin = `http://127.0.0.1:${(quirky.address() as AddressInfo).port}`;
    const crmRefreshToken = await oauth.issueRefreshToken(CLIENTS.basic.clientId);
    const closedPort = await freePort();
    const { write } = tempDir(t);
    const config = write(
      'odbc.ini',
      [
        '[crm]',
        'AuthenticationMethod=54',
        `ClientID=${CLIENTS.basic.clientId}`,
        `ClientSecret=${CLIENTS.basic.clientSecret}`,
        `RefreshToken=${crmRefreshToken}`,
        `TokenURI=POST ${oauth.tokenEndpoint}`,
        `HostName=${upstream.origin}/crm`,
        `HealthURI=${upstream.origin}/crm/health`,
        '',
        '[mkto]',
        'AuthenticationMethod=53',
        `ClientID=${CLIENTS.post.clientId}`,
        `ClientSecret=${CLIENTS.post.clientSecret}`,
        'ClientCredentialsMode=3',
        `TokenURI=POST ${oauth.tokenEndpoint}`,
        'TokenPlacement=query:access_token',
        'RefreshOnBody=errors[].code=601,602',
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
        '[basic]',
        'AuthenticationMethod=0',
        'User=svc-user',
        `Password=${BASIC_PASSWORD}`,
        `HostName=${upstream.origin}/basic`,
        '',
        '[down]',
        'AuthenticationMethod=53',
        'ClientID=down-client',
        `ClientSecret=${DOWN_CLIENT_SECRET}`,
        'ClientCredentialsMode=2',
        `TokenURI=POST http://127.0.0.1:${closedPort}/token`,
        `HostName=${upstream.origin}/down`,
        '',
        '[formtoken]',
        'AuthenticationMethod=53',
        'ClientID=form-client',
        'ClientSecret=form-client-secret-0123456789',
        `TokenURI=POST ${quirkyOrigin}/form`,
        `HostName=${upstream.origin}/formtoken`,
        '',
        '[echoing]',
        'AuthenticationMethod=53',
        'ClientID=echo-client',
        `ClientSecret=${ECHOED_CLIENT_SECRET}`,
        `TokenURI=POST ${quirkyOrigin}/echo`,
        `HostName=${upstream.origin}/echoing`,
        '',
      ].join('\n'),
    );

    // tokenshim serve, as started from a shell, with every log line captured
    const serveIo = captureIo();
    const signals = new EventEmitter();
    let server: TokenshimServer | undefined;
    const listening = new Promise<TokenshimServer>((resolve) => {
      const exit = runServe(['--config', config, '--port', '0', '--log-level', 'debug'], {
        ...serveIo,
        signals,
        onListening: (s) => {
          server = s;
          resolve(s);
        },
      });
      t.teardown(async () => {
        signals.emit('SIGTERM');
        await exit;
      });
    });
    const proxy = await listening;

    const seen: string[] = [];
    const call = async (
      path: string,
      init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
    ): Promise<number> => {
      const res = await request(`${proxy.url}${path}`, init);
      // what tokenshim answered (the request line is the test's own, so it is not kept)
      seen.push(`${res.statusCode} ${JSON.stringify(res.headers)}\n${await res.body.text()}`);
      return res.statusCode;
    };
    t.equal(
      await call('/crm/accounts?page=1', {
        headers: { authorization: `Bearer ${CLIENT_OWN_BEARER}` },
      }),
      200,
    );
    t.equal(await call('/crm/broken'), 500);
    t.equal(await call('/crm/accounts', { method: 'POST', body: '{"a":1}' }), 200);
    t.equal(
      await call(`/mkto/v1/leads.json?access_token=${CLIENT_QUERY_TOKEN}&filterType=email`),
      200,
    );
    t.equal(await call('/static/ping'), 200);
    t.equal(await call('/basic/ping'), 200);
    t.equal(await call('/erp/orders'), 502, 'needs login');
    t.equal(await call('/down/x'), 502, 'token endpoint down');
    t.equal(await call('/formtoken/x'), 502, 'a form-encoded token answer');
    t.equal(await call('/echoing/x'), 502, 'a token endpoint echoing the secret');
    t.equal(await call('/nope/x'), 404);
    // the upstream revokes crm's token: 401 (echoing the credential), refresh, replay
    const crmAuth =
      upstream.requests.find((r) => r.url.startsWith('/crm/'))?.headers.authorization ?? '';
    revoked.add(crmAuth.slice('Bearer '.length));
    t.equal(await call('/crm/accounts', { method: 'POST', body: '{"a":2}' }), 200, 'replayed');
    t.equal(await call('/crm/busy'), 200, 'retried after a 503');
    // the upstream revokes mkto's token, and says so inside a 200 body (echoing the token)
    const mktoUrl = upstream.requests.find((r) => r.url.startsWith('/rest/'))?.url ?? '';
    revoked.add(new URL(mktoUrl, 'http://x').searchParams.get('access_token') ?? '');
    t.equal(await call('/mkto/v1/leads.json?filterType=email'), 200, 'replayed after 601');
    t.equal(
      upstream.requests.filter((r) => r.url.startsWith('/rest/')).length,
      3,
      'the 601 and its replay',
    );
    for (const path of ['status', 'metrics', 'ready', 'health', 'status?format=json']) {
      await call(`/_tokenshim/${path}`);
    }
    await call('/_tokenshim/status', { headers: { accept: 'text/html' } });

    const checkIo = captureIo();
    t.equal(await runCheck(['--config', config], checkIo), 1, 'erp and down fail the online check');
    const tokenIo = captureIo();
    t.equal(await runToken(['erp', '--config', config], tokenIo), 1);

    signals.emit('SIGTERM');
    await new Promise<void>((resolve) => setImmediate(resolve));
    t.ok(server);

    const configured = [
      CLIENTS.basic.clientSecret,
      CLIENTS.post.clientSecret,
      crmRefreshToken,
      ERP_REFRESH_TOKEN,
      STATIC_SECURITY_TOKEN,
      BASIC_PASSWORD,
      DOWN_CLIENT_SECRET,
      CLIENT_OWN_BEARER,
      CLIENT_QUERY_TOKEN,
      FORM_ACCESS_TOKEN,
      FORM_REFRESH_TOKEN,
      ECHOED_CLIENT_SECRET,
      'form-client-secret-0123456789',
    ];
    const tokens = [...issued];
    t.ok(tokens.length >= 4, `the OAuth server issued tokens (${tokens.length})`);
    t.ok(
      upstream.requests.some((r) =>
        tokens.some((tok) => (r.headers.authorization ?? '').includes(tok) || r.url.includes(tok)),
      ),
      'the captured tokens are the ones the upstream received',
    );

    const outputs: Record<string, string> = {
      'serve stdout': serveIo.out(),
      'serve log (stderr)': serveIo.err(),
      'proxy responses (problem bodies, status, metrics, ready)': seen.join('\n'),
      'check output': checkIo.out() + checkIo.err(),
      'token stderr': tokenIo.err() + tokenIo.out(),
    };
    // the scenario did what it claims: every kind of line is there to be searched
    const log = outputs['serve log (stderr)']!;
    t.match(log, /"component":"access".*"dsn":"crm"/);
    t.match(log, /"path":"\/mkto\/v1\/leads\.json\?access_token&filterType"/);
    t.match(log, /"event":"token_fetched"/);
    t.match(log, /"event":"token_fetch_failed"/);
    t.match(
      outputs['proxy responses (problem bodies, status, metrics, ready)'],
      /TOKENSHIM_NEEDS_LOGIN/,
    );
    t.match(
      outputs['proxy responses (problem bodies, status, metrics, ready)'],
      /tokenshim_requests_total/,
    );
    t.match(outputs['check output'], /\[crm\] ok/);
    t.match(seen.join('\n'), /not a JSON token \(keys: access_token, token_type, refresh_token\)/);
    t.match(seen.join('\n'), /no such client secret \[redacted\]/);

    for (const [where, text] of Object.entries(outputs)) {
      const leaks: string[] = [];
      for (const secret of [...configured, ...tokens]) {
        for (const form of forms(secret))
          if (text.includes(form))
            leaks.push(`${secret.slice(0, 6)}... as ${form === secret ? 'is' : 'encoded'}`);
      }
      t.same(leaks, [], `${where}: no secret or token`);
    }
  },
);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
