/**
 * RFC 8628 polling, against a scripted device endpoint and token endpoint on loopback: the
 * interval, slow_down, authorization_pending, expired_token, access_denied, connection trouble,
 * and the code's own expiry, on the injected clock.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { loginWithDevice, type DeviceCodePrompt } from '../../../lib/auth/login/device-login.js';
import { MemoryTokenStore } from '../../../lib/auth/stores/memory-store.js';
import { FakeClock } from '../../../lib/clock.js';
import type { LoginError } from '../../../lib/errors.js';
import { makeDsn } from '../../fixtures/make-dsn.js';

const DEVICE_CODE = 'device-code-secret-7f3a9c';
const CLIENT_SECRET = 'tv-client-secret-1b2c3d';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const pending: Answer = { status: 400, body: { error: 'authorization_pending' } };
const slowDown: Answer = { status: 400, body: { error: 'slow_down' } };
const tokens: Answer = {
  status: 200,
  body: { access_token: 'at-1', refresh_token: 'rt-1', token_type: 'Bearer', expires_in: 3600 },
};

/** A provider whose token endpoint answers the polls from `script` (its last answer repeats). */
async function provider(
  t: Test,
  clock: FakeClock,
  script: readonly Answer[],
  device: Partial<Answer> = {},
) {
  const polls: { at: number; params: URLSearchParams; authorization: string | undefined }[] = [];
  /** what each device authorization request carried */
  const devices: { params: URLSearchParams; authorization: string | undefined }[] = [];
  const started = clock.now();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      let answer: Answer;
      if (req.url === '/device') {
        devices.push({
          params: new URLSearchParams(body),
          authorization: req.headers.authorization,
        });
        answer = {
          status: device.status ?? 200,
          body: device.body ?? {
            device_code: DEVICE_CODE,
            user_code: 'WDJB-MJHT',
            verification_uri: 'https://login.example.com/device',
            expires_in: 60,
            interval: 2,
          },
        };
      } else {
        polls.push({
          at: clock.now() - started,
          params: new URLSearchParams(body),
          authorization: req.headers.authorization,
        });
        answer = script[Math.min(polls.length - 1, script.length - 1)]!;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dsn = makeDsn({
    name: 'tv',
    method: 54,
    clientId: 'tv-client',
    clientSecret: CLIENT_SECRET,
    scope: 'offline_access api',
    tokenParams: { kind: 'form', pairs: [['audience', 'https://api.example.com']] },
    deviceAuthUri: new URL(`${origin}/device`),
    tokenEndpoint: { method: 'POST', url: new URL(`${origin}/token`) },
  });
  return { dsn, polls, devices };
}

/** Lets the login run, moving the clock whenever it waits, until it settles. */
async function drive<T>(clock: FakeClock, login: Promise<T>): Promise<T | LoginError> {
  let settled = false;
  const outcome = login.then(
    (v) => v,
    (e: LoginError) => e,
  );
  void outcome.finally(() => (settled = true));
  for (let step = 0; step < 10_000 && !settled; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (clock.pending > 0) clock.advance(1000);
  }
  return outcome;
}

function run(
  dsn: ReturnType<typeof makeDsn>,
  clock: FakeClock,
  extra: { timeoutMs?: number } = {},
) {
  const store = new MemoryTokenStore();
  const shown: DeviceCodePrompt[] = [];
  const failures: [string, number][] = [];
  const login = loginWithDevice(dsn, {
    store,
    clock,
    env: {},
    showCode: (prompt) => shown.push(prompt),
    onPollFailed: (message, next) => failures.push([message, next]),
    ...extra,
  });
  return { login: drive(clock, login), store, shown, failures };
}

t.test(
  'polls every interval; slow_down adds 5 s for good; pending waits; then the token',
  async (t) => {
    const clock = new FakeClock();
    const { dsn, polls } = await provider(t, clock, [pending, slowDown, pending, tokens]);
    const { login, store, shown } = run(dsn, clock);
    t.match(await login, { store: 'memory' });
    t.same(
      polls.map((p) => p.at),
      [2000, 4000, 11000, 18000],
      'interval 2 s, the first poll included; 7 s after slow_down',
    );
    for (const { params, authorization } of polls) {
      t.equal(params.get('grant_type'), 'urn:ietf:params:oauth:grant-type:device_code');
      t.equal(params.get('device_code'), DEVICE_CODE);
      t.match(authorization, /^Basic /, 'the client authenticates as at any token request');
      t.equal(params.get('scope'), null, 'scope was asked for in the device request');
    }
    t.equal((await store.load('tv'))?.refreshToken, 'rt-1');
    t.same(shown, [
      {
        userCode: 'WDJB-MJHT',
        verificationUri: 'https://login.example.com/device',
        expiresInSeconds: 60,
      },
    ]);
    t.notMatch(JSON.stringify(shown), DEVICE_CODE, 'the device code is never shown');
  },
);

t.test('how a device login ends without a token', async (t) => {
  const cases: [string, readonly Answer[], { timeoutMs?: number }, RegExp, string][] = [
    [
      'expired_token',
      [pending, { status: 400, body: { error: 'expired_token' } }],
      {},
      /no login was finished within the 60 s the device code was valid\. Run tokenshim login --device again and enter the new code at https:\/\/login\.example\.com\/device/,
      'TOKENSHIM_LOGIN_TIMEOUT',
    ],
    [
      'the code expires while the server says pending',
      [pending],
      {},
      /within the 60 s the device code was valid/,
      'TOKENSHIM_LOGIN_TIMEOUT',
    ],
    [
      '--timeout before the code expires',
      [pending],
      { timeoutMs: 5000 },
      /no login was finished within 5 s \(--timeout\)/,
      'TOKENSHIM_LOGIN_TIMEOUT',
    ],
    [
      'access_denied',
      [pending, { status: 400, body: { error: 'access_denied' } }],
      {},
      /the login was declined at the verification page\. Run tokenshim login --device again and approve/,
      'TOKENSHIM_LOGIN',
    ],
    [
      'a refused client: no more polling',
      [{ status: 401, body: { error: 'invalid_client' } }],
      {},
      /DSN "tv": the token endpoint .* answered 401 invalid_client\. Check ClientID/,
      'TOKENSHIM_LOGIN',
    ],
    [
      'a token without a refresh token',
      [{ status: 200, body: { access_token: 'at', expires_in: 60 } }],
      {},
      /issued no refresh token/,
      'TOKENSHIM_LOGIN_NO_REFRESH_TOKEN',
    ],
  ];
  for (const [what, script, extra, message, code] of cases) {
    const clock = new FakeClock();
    const { dsn, polls } = await provider(t, clock, script);
    const { login, store } = run(dsn, clock, extra);
    const error = (await login) as LoginError;
    t.match(error, { code, message }, what);
    t.notMatch(error.message, DEVICE_CODE, `${what}: no device code in the message`);
    t.notMatch(error.message, CLIENT_SECRET, `${what}: no secret in the message`);
    t.equal(await store.load('tv'), undefined, `${what}: nothing stored`);
    if (what === 'the code expires while the server says pending') {
      t.equal(polls.at(-1)!.at <= 60_000, true, 'no poll after the code expired');
    }
  }
});

t.test('a token endpoint in trouble: polling goes on, less often (3.5)', async (t) => {
  const clock = new FakeClock();
  const { dsn, polls } = await provider(t, clock, [
    { status: 503, body: { message: 'down for maintenance' } },
    tokens,
  ]);
  const { login, failures } = run(dsn, clock);
  t.match(await login, { store: 'memory' });
  t.same(
    polls.map((p) => p.at),
    [2000, 6000],
    'the interval doubled after the failure',
  );
  t.match(failures, [[/unavailable \(HTTP 503/, 4000]]);
});

t.test('the device authorization request: client authentication, scope, TokenParams', async (t) => {
  const clock = new FakeClock();
  const { dsn, devices } = await provider(t, clock, [], {
    status: 400,
    body: { error: 'invalid_scope' },
  });
  const error = (await loginWithDevice(dsn, {
    store: new MemoryTokenStore(),
    clock,
    env: {},
    showCode: () => t.fail('no code to show'),
  }).catch((e: unknown) => e)) as LoginError;
  t.match(
    error.message,
    /DeviceAuthURI \(POST http:\/\/127\.0\.0\.1:\d+\/device\) answered 400 invalid_scope\. Check Scope\./,
  );
  t.same(
    devices.map((d) => Object.fromEntries(d.params)),
    [{ scope: 'offline_access api', audience: 'https://api.example.com' }],
    'Scope and TokenParams',
  );
  t.match(devices[0]?.authorization, /^Basic /, 'the client authenticates as at TokenURI');
});
