import t from 'tap';
import type { CredentialProvider, TokenStatus } from '../../../lib/auth/credential.js';
import { FakeClock } from '../../../lib/clock.js';
import { readiness } from '../../../lib/proxy/admin/ready.js';
import { renderStatusPage } from '../../../lib/proxy/admin/status-page.js';
import { buildStatusView } from '../../../lib/proxy/admin/status-view.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

const noRequests = {
  total: 0,
  byStatusClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
  replays: 0,
  retries: 0,
};

t.test('the page escapes every value and shows no secret from a last error', async (t) => {
  // config refuses userinfo in HostName; the view must not show it even so
  const dsn = {
    ...makeDsn({
      name: 'crm',
      method: 54,
      clientSecret: 'the-client-secret-value',
      refreshToken: 'the-refresh-token-value',
    }),
    upstream: new URL('https://user:pw@api.example.com/v1?api_key=k-0123456789'),
  };
  const now = Date.UTC(2026, 0, 1, 12);
  const view = buildStatusView(
    [
      {
        dsn,
        status: {
          state: 'failing',
          lastError: '<script>alert(1)</script> server echoed the-refresh-token-value',
          tokenRequests: 3,
        },
        requests: noRequests,
      },
    ],
    { now, version: '1.2.3' },
  );
  t.equal(view.dsns[0]?.upstream, 'https://api.example.com/v1', 'no user info, no query');
  t.equal(view.dsns[0]?.token.lastError, '<script>alert(1)</script> server echoed [redacted]');
  const html = renderStatusPage(view);
  t.notMatch(html, '<script>');
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt;');
  t.notMatch(html, 'the-refresh-token-value');
  t.notMatch(html, 'pw@');
  t.notMatch(html, 'k-0123456789');
  t.match(html, 'version 1.2.3');
  t.match(html, '1 of 1 DSN need attention');
});

t.test('times are stated in UTC with a relative hint; an empty config says so', async (t) => {
  const now = Date.UTC(2026, 0, 1, 12);
  const view = buildStatusView(
    [
      {
        dsn: makeDsn({ name: 'crm', method: 54 }),
        status: {
          state: 'valid',
          expiresAt: now + 90 * 60_000,
          refreshedAt: now - 30_000,
          tokenRequests: 1,
        },
        requests: {
          ...noRequests,
          total: 2,
          byStatusClass: { ...noRequests.byStatusClass, '2xx': 2 },
        },
      },
    ],
    { now, version: 'x' },
  );
  const html = renderStatusPage(view);
  t.match(html, '2026-01-01 13:30:00 UTC');
  t.match(html, '(in 1 h 30 min)');
  t.match(html, '(30 s ago)');
  t.match(html, '1 DSN, all healthy');
  t.match(renderStatusPage(buildStatusView([], { now, version: 'x' })), 'No DSNs are configured.');
});

t.test('replays and retries are counted on the page when there were some', async (t) => {
  const now = Date.UTC(2026, 0, 1, 12);
  const page = (replays: number, retries: number): string =>
    renderStatusPage(
      buildStatusView(
        [
          {
            dsn: makeDsn({ name: 'crm', method: 54 }),
            status: { state: 'valid', expiresAt: now + 60_000, tokenRequests: 1 },
            requests: {
              ...noRequests,
              total: 3,
              byStatusClass: { ...noRequests.byStatusClass, '2xx': 3 },
              replays,
              retries,
            },
          },
        ],
        { now, version: 'x' },
      ),
    );
  t.match(page(1, 2), '1 replayed after 401');
  t.match(page(1, 2), '2 retries after 429/503');
  t.notMatch(page(0, 0), /replayed|retries/);
});

t.test(
  'ready: a DSN whose token request hangs counts as not ready after the timeout',
  async (t) => {
    const clock = new FakeClock();
    let aborted = false;
    const hanging: CredentialProvider = {
      dsn: makeDsn({ name: 'slow', method: 53 }),
      stripsClientAuthorization: true,
      perUser: false,
      credential: (opts) =>
        new Promise((_, reject) =>
          opts?.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          }),
        ),
      invalidate: () => false,
      status: (): TokenStatus => ({ state: 'empty', tokenRequests: 1 }),
      forceRefresh: () => Promise.reject(new Error('not used')),
      prefetch: () => undefined,
      retire: () => undefined,
      close: async () => undefined,
    };
    const pending = readiness('slow', hanging, clock, 10_000);
    clock.advance(10_000);
    const result = await pending;
    t.match(result, { dsn: 'slow', ready: false, state: 'empty' });
    t.match(result.reason, /DSN "slow" has no valid access token: no token within 10 s/);
    t.ok(aborted, 'the wait was abandoned (the shared token request itself goes on)');
  },
);
