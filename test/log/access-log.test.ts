import t from 'tap';
import type { RefreshTrigger, TokenEvent } from '../../lib/auth/token-events.js';
import { createAccessLog } from '../../lib/log/access-log.js';
import type { Logger } from '../../lib/log/logger.js';
import type { ExchangeEvent } from '../../lib/proxy/forward/exchange.js';
import { capturingLogger } from '../fixtures/capture-log.js';

function capture(level = 'info'): { lines: () => Record<string, unknown>[]; log: Logger } {
  const { lines, log } = capturingLogger(level);
  return { lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), log };
}

const ended = (over: Partial<ExchangeEvent> = {}): ExchangeEvent => ({
  dsn: 'crm',
  method: 'GET',
  status: 200,
  replayed: false,
  retries: 0,
  path: '/crm/accounts?email=a%40b.example',
  durationSeconds: 60,
  upstreamSeconds: 0.0123,
  ...over,
});

const fetched = (trigger: RefreshTrigger): TokenEvent => ({
  type: 'token_fetched',
  dsn: 'crm',
  grantType: 'refresh_token',
  trigger,
  lifetimeSeconds: 3600,
  refreshTokenRotated: false,
  fromStore: false,
});

const failed = (trigger: RefreshTrigger): TokenEvent => ({
  type: 'token_fetch_failed',
  dsn: 'crm',
  grantType: 'refresh_token',
  trigger,
  reason: 'network',
  terminal: false,
});

t.test('with info off there is no access log to feed', async (t) => {
  t.equal(createAccessLog(capture('warn').log), undefined);
});

t.test('one line per request: path without query values, times in ms', async (t) => {
  const { lines, log } = capture();
  const access = createAccessLog(log)!;
  access.exchangeEnded(ended());
  t.match(lines(), [
    {
      component: 'access',
      dsn: 'crm',
      method: 'GET',
      path: '/crm/accounts?email',
      status: 200,
      durationMs: 60000,
      upstreamMs: 12.3,
      refreshed: false,
      msg: 'request',
    },
  ]);
});

t.test('refreshed: a token obtained on demand while the request was in flight', async (t) => {
  const { lines, log } = capture();
  const access = createAccessLog(log)!;
  access.tokenEvent(fetched('ahead_of_expiry'));
  access.exchangeEnded(ended());
  access.tokenEvent(failed('on_demand'));
  access.exchangeEnded(ended());
  access.tokenEvent(fetched('on_demand'));
  access.exchangeEnded(ended());
  access.exchangeEnded(ended({ dsn: 'other' }));
  access.exchangeEnded(ended({ replayed: true, durationSeconds: 0 }));
  t.same(
    lines().map((l) => [l['dsn'], l['refreshed']]),
    [
      ['crm', false],
      ['crm', false],
      ['crm', true],
      ['other', false],
      ['crm', true],
    ],
    'a refresh ahead of expiry keeps no request waiting; a failed fetch refreshed nothing; another DSN’s does not count; a replay always does',
  );
});
