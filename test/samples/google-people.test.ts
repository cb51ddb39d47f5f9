import t, { type Test } from 'tap';
import { GOOGLE_CLIENT, startGoogle, type GoogleImitation } from '../fixtures/imitations/google.js';
import {
  call,
  joinedUrl,
  loadSample,
  startSampleProxy,
  type SampleProxy,
} from '../fixtures/imitations/sample-harness.js';

/** The People API imitation with 7 contacts, behind the proxy on the shipped sample. */
async function peopleBehindProxy(
  t: Test,
): Promise<{ google: GoogleImitation; proxy: SampleProxy }> {
  const google = await startGoogle({ contacts: 7 });
  t.teardown(() => google.close());
  const { dsn } = await loadSample(t, 'google-people.ini', 'google-people', {
    HostName: google.origin,
    TokenURI: `POST ${google.origin}/token`,
    ClientID: GOOGLE_CLIENT.clientId,
    ClientSecret: GOOGLE_CLIENT.clientSecret,
    RefreshToken: GOOGLE_CLIENT.refreshToken,
  });
  return { google, proxy: await startSampleProxy(t, [dsn]) };
}

t.test('samples/google-people.ini as shipped: refresh grant with the contacts scope', async (t) => {
  const { dsn } = await loadSample(t, 'google-people.ini', 'google-people');
  t.equal(dsn.tokenEndpoint?.url.href, 'https://oauth2.googleapis.com/token');
  t.equal(dsn.tokenEndpoint?.method, 'POST');
  t.equal(dsn.clientCredentialsMode, 3);
  t.equal(dsn.scope, 'https://www.googleapis.com/auth/contacts.readonly');
  t.equal(dsn.upstream?.href, 'https://people.googleapis.com/');
});

t.test(
  'cursor pagination through the proxy: nextPageToken goes back as pageToken until there is none',
  async (t) => {
    const { google, proxy } = await peopleBehindProxy(t);

    const names: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const query = new URLSearchParams({ personFields: 'names,emailAddresses', pageSize: '3' });
      if (pageToken) query.set('pageToken', pageToken);
      const res = await call(proxy.url('google-people', `/v1/people/me/connections?${query}`));
      t.equal(res.status, 200);
      const body = res.json<{
        connections: { names: { displayName: string }[] }[];
        nextPageToken?: string;
      }>();
      names.push(...body.connections.map((c) => c.names[0]!.displayName));
      pageToken = body.nextPageToken;
      pages++;
    } while (pageToken && pages < 10);

    t.equal(pages, 3, '3 + 3 + 1 contacts');
    t.same(
      names,
      Array.from({ length: 7 }, (_, i) => `Contact ${i + 1}`),
    );
    t.equal(google.requestsTo('/token').length, 1, 'one token for every page');
    const calls = google.requestsTo('/v1/people/me/connections');
    t.equal(calls[1]!.url.searchParams.get('pageToken'), Buffer.from('3').toString('base64url'));
    t.ok(calls.every((c) => c.headers.authorization === `Bearer ${google.issued[0]}`));
  },
);

t.test(
  "a request without personFields gets Google's own 400, passed through untouched",
  async (t) => {
    const { proxy } = await peopleBehindProxy(t);
    const res = await call(proxy.url('google-people', '/v1/people/me/connections'));
    t.equal(res.status, 400);
    t.match(res.json(), { error: { status: 'INVALID_ARGUMENT', message: /personFields/ } });
  },
);

t.test('joined pages: every contact by cursor, nextPageToken sent back as pageToken', async (t) => {
  const { google, proxy } = await peopleBehindProxy(t);
  const res = await call(joinedUrl('google-people.ini', proxy.server.url, { pageSize: '3' }), {
    headers: { accept: 'application/x-ndjson' },
  });
  t.equal(res.status, 200);
  const lines = res.text.trim().split('\n');
  t.same(
    lines.map((l) => (JSON.parse(l) as { names: { displayName: string }[] }).names[0]!.displayName),
    Array.from({ length: 7 }, (_, i) => `Contact ${i + 1}`),
  );
  const pages = google.requestsTo('/v1/people/me/connections');
  t.same(
    pages.map((r) => r.url.searchParams.get('pageToken')),
    [null, Buffer.from('3').toString('base64url'), Buffer.from('6').toString('base64url')],
  );
  t.equal(pages[0]!.url.searchParams.get('personFields'), 'names,emailAddresses');
});
