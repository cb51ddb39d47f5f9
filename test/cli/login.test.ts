import { readFileSync } from 'node:fs';
import t from 'tap';
import { createCredentialProvider } from '../../lib/auth/provider.js';
import { MemoryTokenStore } from '../../lib/auth/stores/memory-store.js';
import { runLogin } from '../../lib/cli/login.js';
import { FakeClock } from '../../lib/clock.js';
import { captureIo } from '../fixtures/capture-io.js';
import {
  startOAuthServer,
  type OAuthServer,
  type OAuthTestClient,
} from '../fixtures/oauth-server.js';
import { browseLogin, type BrowserVisit } from '../fixtures/oidc-login-browser.js';
import { tempDir } from '../fixtures/temp-config.js';

const PUBLIC: OAuthTestClient = {
  clientId: 'native-client',
  clientSecret: '',
  auth: 'none',
  applicationType: 'native',
  grantTypes: ['authorization_code', 'refresh_token'],
  redirectUris: ['http://127.0.0.1/callback'],
};
const CONFIDENTIAL: OAuthTestClient = {
  clientId: 'desktop-client',
  clientSecret: 'desktop-s3cret+/=value',
  auth: 'client_secret_basic',
  applicationType: 'native',
  grantTypes: ['authorization_code', 'refresh_token'],
  redirectUris: ['http://127.0.0.1/callback'],
};

async function oauthServer(t: { teardown(fn: () => unknown): void }): Promise<OAuthServer> {
  const server = await startOAuthServer({ clients: [PUBLIC, CONFIDENTIAL] });
  t.teardown(() => server.close());
  return server;
}

function ini(server: OAuthServer, section: string, lines: string[]): string {
  return [
    `[${section}]`,
    `AuthURI=${server.issuer}/auth`,
    `TokenURI=POST ${server.tokenEndpoint}`,
    'HostName=https://api.example.com',
    ...lines,
    '',
  ].join('\n');
}

/**
 * A browser that the login command "opens": it walks the server's pages as a person would. The
 * command does not wait for the browser, so the test awaits `visits` for what the person saw.
 */
function personAtBrowser(
  visits: Promise<BrowserVisit>[],
  opts: Parameters<typeof browseLogin>[1] = {},
) {
  return async (url: string): Promise<void> => {
    visits.push(browseLogin(url, opts));
  };
}

t.test(
  'login with PKCE (method 56, public client) through the real login and consent pages',
  async (t) => {
    const server = await oauthServer(t);
    const { write } = tempDir(t);
    const config = write(
      'odbc.ini',
      ini(server, 'crm', [
        'AuthenticationMethod=56',
        'ClientID=native-client',
        'Scope=openid offline_access api',
        'RedirectURI=http://127.0.0.1/callback',
      ]),
    );
    const io = captureIo();
    const visits: Promise<BrowserVisit>[] = [];
    const code = await runLogin(['crm', '--config', config], io, {
      openBrowser: personAtBrowser(visits),
    });
    t.equal(code, 0, io.err());
    t.equal(visits.length, 1);
    const visit = await visits[0]!;
    t.same(visit.submitted, ['login', 'consent'], 'the person signed in and approved');
    t.equal(visit.finalStatus, 200);
    t.match(visit.finalBody, 'You can close this window');

    const authUrl = new URL(visit.visited[0]!);
    t.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    t.match(authUrl.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    t.match(authUrl.searchParams.get('redirect_uri'), /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    t.ok(authUrl.searchParams.get('state'));

    const exchange = server.grants.find((g) => g.grantType === 'authorization_code');
    t.equal(exchange?.error, undefined, 'the code (with its verifier) was redeemed');
    t.equal(exchange?.clientAuthMethod, 'none');

    t.match(
      readFileSync(`${config}.tokens.json`, 'utf8'),
      /"refreshToken":\s*"[^"]{20,}"/,
      'the refresh token is in the file store beside the config',
    );
    t.match(
      io.out(),
      /Logged in: the refresh token for DSN "crm" is stored in file .*odbc\.ini\.tokens\.json/,
    );

    // the proxy's token engine lives on it
    const { loadConfig } = await import('../../lib/config/load.js');
    const dsn = (await loadConfig({ configPath: config })).dsns[0]!;
    const provider = createCredentialProvider(dsn, { configPath: config });
    t.teardown(() => provider.close());
    const cred = await provider.credential();
    t.ok(cred.accessToken);
    t.equal(server.grants.at(-1)?.grantType, 'refresh_token');
    t.equal(server.grants.at(-1)?.error, undefined);
  },
);

t.test('login with a confidential client authenticates it at the token endpoint', async (t) => {
  const server = await oauthServer(t);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    ini(server, 'erp', [
      'AuthenticationMethod=54',
      'ClientID=desktop-client',
      `ClientSecret=${CONFIDENTIAL.clientSecret}`,
      'Scope=openid offline_access',
    ]),
  );
  const io = captureIo();
  const store = new MemoryTokenStore();
  const visits: Promise<BrowserVisit>[] = [];
  t.equal(
    await runLogin(['erp', '--config', config], io, {
      openBrowser: personAtBrowser(visits),
      store,
    }),
    0,
    io.err(),
  );
  const exchange = server.grants.find((g) => g.grantType === 'authorization_code');
  t.equal(exchange?.clientAuthMethod, 'client_secret_basic');
  t.equal(exchange?.error, undefined);
  t.ok((await store.load('erp'))?.refreshToken);
  t.notMatch(io.out() + io.err(), CONFIDENTIAL.clientSecret);
  t.notMatch(io.out() + io.err(), (await store.load('erp'))!.refreshToken!);
});

t.test(
  '--no-browser prints the URL; a redirect with the wrong state is refused and the login goes on',
  async (t) => {
    const server = await oauthServer(t);
    const { write } = tempDir(t);
    const config = write(
      'odbc.ini',
      ini(server, 'crm', [
        'AuthenticationMethod=56',
        'ClientID=native-client',
        'Scope=openid offline_access',
      ]),
    );
    const io = captureIo();
    const store = new MemoryTokenStore();
    const opened: string[] = [];
    const running = runLogin(['crm', '--config', config, '--no-browser'], io, {
      store,
      openBrowser: async (url) => void opened.push(url),
    });
    const printed = await new Promise<string>((resolve) => {
      const look = (): void => {
        const m = /^ {2}(http\S+)$/m.exec(io.out());
        if (m) resolve(m[1]!);
        else io.stdout.once('data', look);
      };
      look();
    });
    const redirectUri = new URL(printed).searchParams.get('redirect_uri')!;
    const forged = await fetch(`${redirectUri}?code=attacker-code&state=not-the-state`);
    t.equal(forged.status, 400);
    t.match(await forged.text(), 'state');

    const visit = await browseLogin(printed);
    t.equal(visit.finalStatus, 200);
    t.equal(await running, 0, io.err());
    t.same(opened, [], '--no-browser opens nothing');
    t.match(io.err(), 'ignored a redirect whose state does not match');
    t.ok((await store.load('crm'))?.refreshToken);
    t.equal(
      server.grants.filter((g) => g.grantType === 'authorization_code').length,
      1,
      'the forged code was never sent to the token endpoint',
    );
  },
);

t.test('a person who denies consent ends the login with exit 1 and the reason', async (t) => {
  const server = await oauthServer(t);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    ini(server, 'crm', [
      'AuthenticationMethod=56',
      'ClientID=native-client',
      'Scope=openid offline_access',
    ]),
  );
  const io = captureIo();
  const visits: Promise<BrowserVisit>[] = [];
  const code = await runLogin(['crm', '--config', config, '--timeout', '30'], io, {
    openBrowser: personAtBrowser(visits, { denyConsent: true }),
    store: new MemoryTokenStore(),
  });
  t.equal(code, 1);
  t.match(io.err(), /DSN "crm": the provider refused the login: access_denied/);
  t.match(io.err(), /approve the access request/);
  t.match((await visits[0])?.finalBody, 'Login failed');
});

t.test('the login times out with a clear message', async (t) => {
  const server = await oauthServer(t);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    ini(server, 'crm', ['AuthenticationMethod=56', 'ClientID=native-client']),
  );
  const clock = new FakeClock();
  const io = captureIo();
  const running = runLogin(['crm', '--config', config, '--no-browser', '--timeout', '5'], io, {
    clock,
    store: new MemoryTokenStore(),
  });
  await new Promise<void>((resolve) => {
    const look = (): void =>
      io.out().includes('Waiting up to 5 s') ? resolve() : void io.stdout.once('data', look);
    look();
  });
  clock.advance(5_000);
  t.equal(await running, 1);
  t.match(io.err(), 'no login arrived within 5 s');
  t.match(io.err(), 'with a longer --timeout');
});

t.test(
  'a login without offline_access gets no refresh token and says how to ask for one',
  async (t) => {
    const server = await oauthServer(t);
    const { write } = tempDir(t);
    const config = write(
      'odbc.ini',
      ini(server, 'crm', ['AuthenticationMethod=56', 'ClientID=native-client', 'Scope=openid api']),
    );
    const store = new MemoryTokenStore();
    const io = captureIo();
    const visits: Promise<BrowserVisit>[] = [];
    t.equal(
      await runLogin(['crm', '--config', config], io, {
        openBrowser: personAtBrowser(visits),
        store,
      }),
      1,
    );
    t.equal((await visits[0])?.finalStatus, 200, 'the browser side of the login went through');
    t.match(io.err(), 'issued no refresh token');
    t.match(io.err(), 'add offline_access to Scope');
    t.equal(await store.load('crm'), undefined, 'nothing half-done was stored');
  },
);

t.test('configuration and usage errors exit 2 with the option to fix', async (t) => {
  const server = await oauthServer(t);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      ini(server, 'cc', ['AuthenticationMethod=53', 'ClientID=a', 'ClientSecret=b']),
      '[noauth]\nAuthenticationMethod=56\nClientID=native-client\n' +
        `TokenURI=POST ${server.tokenEndpoint}\nHostName=https://api.example.com\n`,
      ini(server, 'remote', [
        'AuthenticationMethod=56',
        'ClientID=native-client',
        'RedirectURI=https://app.example.com/callback',
      ]),
    ].join('\n'),
  );
  // configuration errors name the fix; usage errors point at --help
  const cases: [string[], RegExp, 'config' | 'usage'][] = [
    [['cc'], /login is for DSNs that live on a refresh token .* uses 53/, 'config'],
    [['noauth'], /\[noauth\]: AuthURI is missing/, 'config'],
    [['remote'], /RedirectURI must be http:\/\/127\.0\.0\.1/, 'config'],
    [['nope'], /no DSN named "nope" in .*odbc\.ini; it has cc, remote/, 'usage'],
    [[], /name the DSN/, 'usage'],
    [['cc', '--timeout', 'soon'], /--timeout takes a number of seconds/, 'usage'],
    [['cc', '--bogus'], /Unknown option '--bogus'/, 'usage'],
    [['cc', 'remote'], /one DSN at a time \(got cc, remote\)/, 'usage'],
  ];
  for (const [args, message, kind] of cases) {
    const io = captureIo();
    t.equal(await runLogin([...args, '--config', config], io), 2, args.join(' '));
    t.match(io.err(), message, args.join(' '));
    if (kind === 'usage') t.match(io.err(), 'Run tokenshim login --help', args.join(' '));
    else t.notMatch(io.err(), '--help', args.join(' '));
    t.equal(io.err().split('tokenshim login:').length, 2, `${args.join(' ')}: reported once`);
  }
  const io = captureIo();
  t.equal(await runLogin(['--help'], io), 0);
  t.match(io.out(), /Usage: tokenshim login <DSN>/);
});
