import t from 'tap';
import { runToken } from '../../lib/cli/token.js';
import { captureIo } from '../fixtures/capture-io.js';
import { CLIENTS, startOAuthServer, type OAuthServer } from '../fixtures/oauth-server.js';
import { tempDir } from '../fixtures/temp-config.js';

async function oauthServer(t: { teardown(fn: () => unknown): void }): Promise<OAuthServer> {
  const server = await startOAuthServer();
  t.teardown(() => server.close());
  return server;
}

function refreshDsn(tokenEndpoint: string, name: string, refreshToken: string): string {
  return [
    `[${name}]`,
    'AuthenticationMethod=54',
    `ClientID=${CLIENTS.basic.clientId}`,
    `ClientSecret=${CLIENTS.basic.clientSecret}`,
    `RefreshToken=${refreshToken}`,
    `TokenURI=POST ${tokenEndpoint}`,
    'HostName=https://api.example.com',
    '',
  ].join('\n');
}

t.test('prints a valid access token and nothing else on stdout', async (t) => {
  const server = await oauthServer(t);
  const rt = await server.issueRefreshToken(CLIENTS.basic.clientId);
  const { write } = tempDir(t);
  const config = write('odbc.ini', refreshDsn(server.tokenEndpoint, 'crm', rt));
  const io = captureIo();
  t.equal(await runToken(['crm', '--config', config], io), 0, io.err());
  t.equal(io.err(), '');
  t.match(io.out(), /^[^\s]+\n$/, 'one line: the token');
  const token = io.out().trim();
  const issued = (await (
    server.provider.AccessToken as unknown as {
      find(v: string): Promise<{ clientId: string } | undefined>;
    }
  ).find(token)) as { clientId: string } | undefined;
  t.equal(
    issued?.clientId,
    CLIENTS.basic.clientId,
    'the OAuth server knows the token as its own, unexpired',
  );
  t.equal(server.grants.at(-1)?.grantType, 'refresh_token');

  // the rotated refresh token and the access token went to the store: a second run reuses them
  const before = server.tokenRequests;
  const again = captureIo();
  t.equal(await runToken(['crm', '--config', config], again), 0, again.err());
  t.equal(again.out().trim(), token, 'the still-valid token from the store');
  t.equal(server.tokenRequests, before, 'no second token request');
});

t.test('a refused refresh token: exit 1, the reason on stderr, nothing on stdout', async (t) => {
  const server = await oauthServer(t);
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    refreshDsn(server.tokenEndpoint, 'crm', 'not-a-real-refresh-token'),
  );
  const io = captureIo();
  t.equal(await runToken(['crm', '--config', config], io), 1);
  t.equal(io.out(), '');
  t.match(io.err(), /tokenshim token: DSN "crm" needs a new login/);
  t.match(io.err(), /tokenshim login crm/);
  t.notMatch(io.err(), 'not-a-real-refresh-token');
  t.notMatch(io.err(), CLIENTS.basic.clientSecret);
});

t.test('an unreachable token endpoint: exit 1 naming the endpoint', async (t) => {
  const server = await oauthServer(t);
  const rt = await server.issueRefreshToken(CLIENTS.basic.clientId);
  const endpoint = server.tokenEndpoint;
  await server.close();
  const { write } = tempDir(t);
  const config = write('odbc.ini', refreshDsn(endpoint, 'crm', rt));
  const io = captureIo();
  t.equal(await runToken(['crm', '--config', config], io), 1);
  t.equal(io.out(), '');
  t.match(io.err(), /DSN "crm".*(cannot reach the token endpoint|no valid access token)/);
});

t.test('static credentials: bearer tokens print, Basic has no token', async (t) => {
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[bearer]\nAuthenticationMethod=34\nSecurityToken=static-bearer-0123456789\nHostName=https://a.example\n',
      '[basic]\nAuthenticationMethod=0\nUser=u\nPassword=p-0123456789\nHostName=https://b.example\n',
    ].join('\n'),
  );
  const io = captureIo();
  t.equal(await runToken(['bearer', '--config', config], io), 0, io.err());
  t.equal(io.out(), 'static-bearer-0123456789\n');
  const basic = captureIo();
  t.equal(await runToken(['basic', '--config', config], basic), 1);
  t.equal(basic.out(), '');
  t.match(basic.err(), /DSN "basic" uses AuthenticationMethod=0 .*no access token to print/);
  t.notMatch(basic.err(), 'p-0123456789');
});

t.test('usage and configuration errors exit 2', async (t) => {
  const { write } = tempDir(t);
  const config = write(
    'odbc.ini',
    [
      '[bearer]\nAuthenticationMethod=34\nSecurityToken=static-bearer-0123456789\nHostName=https://a.example\n',
      '[peruser]\nAuthenticationMethod=53\nClientID=a\nClientSecret=b\nTokenURI=POST https://login.example/token\n' +
        'TokenParams=user={user}\nHostName=https://c.example\n',
      '[broken]\nAuthenticationMethod=54\nHostName=https://b.example\n',
    ].join('\n'),
  );
  const cases: [string[], RegExp][] = [
    [['nope'], /no DSN named "nope"/],
    [['bearer', 'peruser'], /one DSN at a time/],
    [['broken'], /\[broken\]: .*TokenURI is missing/],
    [['peruser'], /issues one token per user .* pass --user NAME/],
    [['bearer', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const io = captureIo();
    t.equal(await runToken([...args, '--config', config], io), 2, args.join(' '));
    t.match(io.err(), message, args.join(' '));
    t.equal(io.out(), '', args.join(' '));
  }
  const help = captureIo();
  t.equal(await runToken(['--help'], help), 0);
  t.match(help.out(), /Usage: tokenshim token <DSN>/);
});

t.test('--connect takes the DSN from a connection string', async (t) => {
  const io = captureIo();
  t.equal(
    await runToken(
      [
        '--connect',
        'AuthenticationMethod=34;SecurityToken=cs-token-0123456789;HostName=https://a.example',
      ],
      io,
    ),
    0,
    io.err(),
  );
  t.equal(io.out(), 'cs-token-0123456789\n');
});
