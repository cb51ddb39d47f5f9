import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { GITHUB_CLIENT, startGitHub } from '../fixtures/imitations/github.js';
import {
  call,
  joinedUrl,
  linkTarget,
  loadSample,
  startSampleProxy,
} from '../fixtures/imitations/sample-harness.js';

const credentials = (origin: string) => ({
  HostName: origin,
  TokenURI: `POST ${origin}/login/oauth/access_token`,
  ClientID: GITHUB_CLIENT.clientId,
  ClientSecret: GITHUB_CLIENT.clientSecret,
  RefreshToken: GITHUB_CLIENT.refreshToken,
});

t.test('samples/github.ini as shipped: POST with every parameter in the URL', async (t) => {
  const { dsn } = await loadSample(t, 'github.ini', 'github');
  t.equal(dsn.tokenEndpoint?.method, 'POST');
  t.equal(dsn.tokenEndpoint?.url.href, 'https://github.com/login/oauth/access_token');
  t.equal(dsn.clientCredentialsMode, 2);
  t.equal(dsn.tokenRequestFormat, 'query');
});

t.test(
  'token request as GitHub documents it, asking for JSON (GitHub answers form-encoded otherwise)',
  async (t) => {
    const github = await startGitHub();
    t.teardown(() => github.close());
    const { dsn } = await loadSample(t, 'github.ini', 'github', credentials(github.origin));
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    const credential = await provider.credential();
    const [req] = github.requestsTo('/login/oauth/access_token');
    t.equal(req!.method, 'POST');
    t.equal(req!.body, '');
    t.match(req!.headers.accept, /application\/json/);
    t.same(Object.fromEntries(req!.url.searchParams), {
      client_id: GITHUB_CLIENT.clientId,
      client_secret: GITHUB_CLIENT.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: GITHUB_CLIENT.refreshToken,
    });
    t.same(
      credential.headers,
      [['Authorization', `Bearer ${github.issued[0]}`]],
      'token_type "bearer" as Bearer',
    );
  },
);

t.test(
  'Link pagination through the proxy: every rel="next" points back at tokenshim and is followed there',
  async (t) => {
    const github = await startGitHub({ issues: 5 });
    t.teardown(() => github.close());
    const { dsn } = await loadSample(t, 'github.ini', 'github', credentials(github.origin));
    const proxy = await startSampleProxy(t, [dsn]);

    const titles: string[] = [];
    let next: string | undefined = proxy.url(
      'github',
      '/repos/octo-org/octo-repo/issues?per_page=2',
    );
    let pages = 0;
    while (next !== undefined && pages < 10) {
      t.ok(
        next.startsWith(`${proxy.server.url}/github/`),
        `page ${pages + 1} is fetched through tokenshim`,
      );
      const res = await call(next);
      t.equal(res.status, 200);
      titles.push(...res.json<{ title: string }[]>().map((i) => i.title));
      t.notOk(
        res.headers.get('link')?.includes(github.origin),
        'no upstream URL leaks to the client',
      );
      next = linkTarget(res.headers.get('link'), 'next');
      pages++;
    }
    t.equal(pages, 3);
    t.same(titles, ['Issue 1', 'Issue 2', 'Issue 3', 'Issue 4', 'Issue 5']);
    const followed = github.requestsTo(`/repositories/${GITHUB_CLIENT.repositoryId}/issues`);
    t.equal(followed.length, 2, "pages 2 and 3 at GitHub's own /repositories/{id} path");
    t.ok(
      followed.every((r) => r.headers.authorization === `Bearer ${github.issued[0]}`),
      'with the token',
    );
  },
);

t.test(
  "GitHub's bad_refresh_token (HTTP 200) is terminal: a spent rotating token is not retried",
  async (t) => {
    const github = await startGitHub();
    t.teardown(() => github.close());
    const { dsn } = await loadSample(t, 'github.ini', 'github', {
      ...credentials(github.origin),
      RefreshToken: 'ghr_spent',
    });
    const provider = createCredentialProvider(dsn);
    t.teardown(() => provider.close());
    await t.rejects(provider.credential(), {
      code: 'TOKENSHIM_NEEDS_LOGIN',
      message: /bad_refresh_token/,
    });
    t.equal(provider.status().state, 'needs-login');
    t.equal(github.requestsTo('/login/oauth/access_token').length, 1);
  },
);

t.test('joined pages: every issue, following the Link header across paths', async (t) => {
  const github = await startGitHub({ issues: 5 });
  t.teardown(() => github.close());
  const { dsn } = await loadSample(t, 'github.ini', 'github', credentials(github.origin));
  const proxy = await startSampleProxy(t, [dsn]);
  const res = await call(
    joinedUrl(
      'github.ini',
      proxy.server.url,
      { per_page: '2' },
      { 'OWNER/REPO': 'octo-org/octo-repo' },
    ),
  );
  t.equal(res.status, 200);
  t.same(
    res.json<{ number: number }[]>().map((i) => i.number),
    [1, 2, 3, 4, 5],
  );
});
