/**
 * `tokenshim token --force`: a new token now, from another process than the running proxy; the
 * proxy sees it in the shared token store and uses it at once, and the refresh token the command
 * rotated is the one the proxy redeems next (no reuse).
 */
import { join } from 'node:path';
import t from 'tap';
import { request } from 'undici';
import { startTokenshim } from '../../lib/app/start-tokenshim.js';
import { runToken } from '../../lib/cli/token.js';
import { loadConfig } from '../../lib/config/load.js';
import { captureIo } from '../fixtures/capture-io.js';
import { startCredentialUpstream } from '../fixtures/credential-upstream.js';
import { faultIniSection, startFaultTokenServer } from '../fixtures/fault-token-server.js';
import { tempDir } from '../fixtures/temp-config.js';

t.test('the running proxy uses a token forced by tokenshim token --force at once', async (t) => {
  const ts = await startFaultTokenServer(t);
  const up = await startCredentialUpstream(t, ts);
  const dir = tempDir(t);
  const config = dir.write(
    'odbc.ini',
    faultIniSection('crm', ts, ts.issueRefreshToken(), up.origin, [
      `TokenStore=${join(dir.dir, 'tokens.json')}`,
    ]),
  );
  const loaded = await loadConfig({ configPath: config, env: {}, cwd: dir.dir });
  const server = await startTokenshim({
    dsns: loaded.dsns,
    port: 0,
    env: {},
    processMetrics: false,
    configPath: config,
  });
  t.teardown(() => server.close({ drainMs: 0 }));
  const call = async (): Promise<string> => {
    await (await request(`${server.url}/crm/x`)).body.dump();
    return up.uses.at(-1)!.token;
  };
  const first = await call();

  const io = captureIo();
  t.equal(await runToken(['crm', '--force', '--config', config], io), 0, io.err());
  const forced = io.out().trim();
  t.not(forced, first, 'a new token although the old one was valid');
  t.equal(ts.tokenRequests, 2);

  // the store watch tells the proxy; bounded by attempts, not by time
  const provider = server.provider('crm')!;
  for (let i = 0; i < 1000; i++) {
    if ((await provider.credential()).accessToken === forced) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.equal(await call(), forced, 'the next request carries the forced token');
  t.equal(ts.tokenRequests, 2, 'the proxy made no token request of its own');

  // the proxy's next refresh redeems the refresh token the command rotated and saved
  const refreshed = await request(`${server.url}/_tokenshim/refresh/crm`, {
    method: 'POST',
    headers: { 'x-tokenshim-admin': '1' },
  });
  t.equal(refreshed.statusCode, 200);
  await refreshed.body.dump();
  t.equal(ts.reuse, 0, 'no refresh token presented twice');
  t.equal(ts.redeemed, 3);
});

t.test('--force for a static credential: exit 1 with the reason', async (t) => {
  const dir = tempDir(t);
  const config = dir.write(
    'odbc.ini',
    '[legacy]\nAuthenticationMethod=34\nSecurityToken=s3cr3t-value\nHostName=https://api.example.com\n',
  );
  const io = captureIo();
  t.equal(await runToken(['legacy', '--force', '--config', config], io), 1);
  t.equal(io.out(), '');
  t.match(
    io.err(),
    /DSN "legacy" uses a static credential \(AuthenticationMethod=34\): there is no token to refresh/,
  );
  t.notMatch(io.err(), 's3cr3t-value');
});
