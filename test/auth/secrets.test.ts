/**
 * Secrets (client secrets, refresh tokens, access tokens, passwords) never appear in logs, errors,
 * problem bodies, status or events, through successes and every kind of failure.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import type { TokenEvent } from '../../lib/auth/token-events.js';
import { FakeClock } from '../../lib/clock.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { TokenshimError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log/logger.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { CLIENTS, startOAuthServer } from '../fixtures/oauth-server.js';

t.test('no secret in logs, errors, problems, status or events', async (t) => {
  const server = await startOAuthServer({ users: { alice: 'alice-Pa55word!' } });
  t.teardown(() => server.close());
  // an endpoint that echoes the request into an HTML error page
  const echo = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () =>
      res
        .writeHead(400, { 'content-type': 'text/html' })
        .end(`<p>bad request ${req.url} ${body} ${req.headers.authorization}</p>`),
    );
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => echo.close(() => r())));
  const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/token`;

  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (s: string) => void lines.push(s) },
  });
  const events: TokenEvent[] = [];
  const outputs: string[] = [];
  const secrets = new Set<string>([
    CLIENTS.basic.clientSecret,
    CLIENTS.post.clientSecret,
    'alice-Pa55word!',
  ]);
  const store = new MemoryTokenStore();
  const clock = new FakeClock(Date.now());

  async function run(
    name: string,
    o: Partial<Omit<DsnConfig, 'method'>> & { method: number },
    rounds = 1,
  ) {
    const p = createCredentialProvider(makeDsn({ name, ...o }), {
      store,
      clock,
      logger,
      onEvent: (e) => events.push(e),
    });
    t.teardown(() => p.close());
    for (let i = 0; i < rounds; i++) {
      try {
        const cred = await p.credential();
        if (cred.accessToken) secrets.add(cred.accessToken);
        clock.advance(3600_000);
      } catch (e) {
        t.type(e, TokenshimError);
        const err = e as TokenshimError;
        outputs.push(err.message, JSON.stringify(err.toProblem()), String(err.stack));
      }
    }
    outputs.push(JSON.stringify(p.status()));
    const stored = await store.load(name);
    if (stored?.refreshToken) secrets.add(stored.refreshToken);
    if (stored?.accessToken) secrets.add(stored.accessToken);
  }

  const rt = await server.issueRefreshToken(CLIENTS.basic.clientId);
  secrets.add(rt);
  const base = {
    clientId: CLIENTS.basic.clientId,
    clientSecret: CLIENTS.basic.clientSecret,
    scope: 'openid offline_access api',
    tokenEndpoint: { method: 'POST' as const, url: new URL(server.tokenEndpoint) },
  };
  await run('rotating', { method: 54, ...base, refreshToken: rt }, 3);
  await run('reused', { method: 54, ...base, refreshToken: rt }); // consumed: invalid_grant
  await run('wrong-secret', { method: 53, ...base, clientSecret: 'wrong-Secret-123' });
  secrets.add('wrong-Secret-123');
  await run('password', { method: 52, ...base, user: 'alice', password: 'alice-Pa55word!' });
  await run('echo', {
    method: 53,
    clientId: 'id',
    clientSecret: 'echoed-Secret-456',
    clientCredentialsMode: 2,
    tokenEndpoint: { method: 'GET', url: new URL(echoUrl) },
  });
  secrets.add('echoed-Secret-456');
  await run('echo-basic', {
    method: 52,
    clientId: 'id',
    clientSecret: 'basic-Secret-789',
    user: 'u',
    password: 'echoed-Password-0',
    tokenEndpoint: { method: 'POST', url: new URL(echoUrl) },
  });
  secrets.add('basic-Secret-789');
  secrets.add('echoed-Password-0');

  const text = [...lines, ...outputs, JSON.stringify(events)].join('\n');
  t.ok(
    lines.some((l) => l.includes('"token_fetched"')),
    'successes were logged',
  );
  t.ok(
    lines.some((l) => l.includes('"needs_login"')),
    'needs-login was logged',
  );
  t.ok(
    lines.some((l) => l.includes('"token_fetch_failed"')),
    'failures were logged',
  );
  t.ok(
    outputs.some((o) => o.includes('bad request')),
    'the echo page was quoted (redacted)',
  );
  t.ok(secrets.size >= 10, `checked ${secrets.size} secret values`);
  for (const secret of secrets) {
    for (const form of [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams([['', secret]]).toString().slice(1),
    ]) {
      t.notOk(text.includes(form), `${secret.slice(0, 3)}... appears nowhere`);
    }
  }
  const basicHeader = Buffer.from(`id:basic-Secret-789`).toString('base64');
  t.notOk(text.includes(basicHeader.slice(0, 12)), 'nor the Basic header that carried it');
});
