/**
 * One event channel: the manager reports token requests, tokens and failures as TokenEvents
 * (the token log writes the one info line per event) and logs only debug detail itself.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import type { TokenEvent } from '../../../lib/auth/token-events.js';
import { TokenManager } from '../../../lib/auth/token/token-manager.js';
import { FakeClock } from '../../../lib/clock.js';
import { NeedsLoginError, TokenUnavailableError } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log/logger.js';
import { loopbackDispatcher } from '../../fixtures/loopback-dispatcher.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

interface LogLine {
  level: number;
  event?: string;
  [field: string]: unknown;
}

t.test('events carry each outcome; the manager logs them at debug, never at info', async (t) => {
  // the token endpoint answers a token, then 503, then refuses the client for good
  const answers: [number, object][] = [
    [200, { access_token: 'at-events-1', expires_in: 60 }],
    [503, { error: 'temporarily_unavailable' }],
    [401, { error: 'invalid_client', error_description: 'bad client' }],
  ];
  const endpoint = createServer((req, res) => {
    req.resume();
    const [status, body] = answers.shift() ?? [500, {}];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => endpoint.close(() => resolve())));
  const port = (endpoint.address() as AddressInfo).port;

  const lines: LogLine[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  });
  const events: TokenEvent[] = [];
  const clock = new FakeClock(Date.now());
  const m = new TokenManager({
    dsn: makeDsn({
      name: 'erp',
      method: 53,
      clientId: 'cid',
      clientSecret: 'client-Secret-9',
      refreshMarginSeconds: 0,
      tokenEndpoint: { method: 'POST', url: new URL(`http://127.0.0.1:${port}/token`) },
    }),
    store: new MemoryTokenStore(),
    dispatcher: loopbackDispatcher(t),
    clock,
    logger,
    random: () => 0,
    onEvent: (e) => events.push(e),
  });
  t.teardown(() => m.close());

  await m.getToken();
  clock.advance(60_000);
  t.type(await m.getToken().catch((e: unknown) => e), TokenUnavailableError);
  clock.advance(500);
  t.type(await m.getToken().catch((e: unknown) => e), NeedsLoginError);

  t.match(
    events.map((e) => [e.type, e.trigger]),
    [
      ['token_requested', 'on_demand'],
      ['token_fetched', 'on_demand'],
      ['token_requested', 'on_demand'],
      ['token_fetch_failed', 'on_demand'],
      ['token_requested', 'on_demand'],
      ['token_fetch_failed', 'on_demand'],
    ],
  );
  t.match(events[3], {
    reason: 'status_5xx',
    httpStatus: 503,
    terminal: false,
    retryInMs: 500,
    error: /^DSN "erp": the token endpoint \(POST http:\/\/127\.0\.0\.1:\d+\/token\) answered 503/,
  });
  t.match(events[5], {
    reason: 'oauth_error',
    terminal: true,
    error: /^DSN "erp" was refused by the token endpoint for good \(invalid_client: bad client/,
  });
  t.notMatch(JSON.stringify(events), 'client-Secret-9');

  const detail = ['token_requested', 'token_fetched', 'token_fetch_failed', 'needs_login'];
  const logged = lines.filter((l) => detail.includes(String(l.event)));
  t.same(
    logged.map((l) => l.event),
    [
      'token_requested',
      'token_fetched',
      'token_requested',
      'token_fetch_failed',
      'token_requested',
      'needs_login',
    ],
    'the manager adds its detail',
  );
  t.same(
    logged.filter((l) => l.level >= 30),
    [],
    'at debug only: the token log writes the one info line per event',
  );
});
