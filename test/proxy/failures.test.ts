import { createServer, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { Agent, request } from 'undici';
import { NeedsLoginError, TokenEndpointError } from '../../lib/errors.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { TEST_CA_FILE, startUpstream } from '../fixtures/upstream.js';
import { startProxy } from './proxy-harness.js';

const SECRETS = {
  clientSecret: 'client-secret-d9f1a7c2e5',
  refreshToken: 'refresh-token-5b8e2f0c1a',
  password: 'password-3c7a9e1f4b',
};

interface Problem {
  code: string;
  status: number;
  detail: string;
  dsn?: string;
  [k: string]: unknown;
}

/** Every problem body a test saw, checked for secrets at the end. */
const bodies: string[] = [];

async function problemOf(
  t: Test,
  url: string,
  init: Parameters<typeof request>[1] = {},
): Promise<{ status: number; problem: Problem }> {
  const res = await request(url, init);
  const text = await res.body.text();
  bodies.push(text);
  t.equal(res.headers['content-type'], 'application/problem+json', `${url} answers problem+json`);
  return { status: res.statusCode, problem: JSON.parse(text) as Problem };
}

function oauthDsn(name: string, upstream: URL, extra: Parameters<typeof makeDsn>[0] = {}) {
  return makeDsn({ name, method: 54, upstream, ...SECRETS, clientId: 'cid', ...extra });
}

t.test('token endpoint failing: 502 with the server’s OAuth error and description', async (t) => {
  const up = await startUpstream(t);
  const { server, stub } = await startProxy(t, [oauthDsn('api', new URL(up.origin))]);
  stub('api').failWith(
    new TokenEndpointError(
      'DSN "api": the token endpoint refused the request (invalid_scope). Check Scope.',
      {
        dsn: 'api',
        error: 'invalid_scope',
        errorDescription: 'scope "admin" is not allowed',
        httpStatus: 400,
      },
    ),
  );
  const { status, problem } = await problemOf(t, `${server.url}/api/x`);
  t.equal(status, 502);
  t.equal(problem.code, 'TOKENSHIM_TOKEN_ENDPOINT');
  t.equal(problem.dsn, 'api');
  t.equal(problem.error, 'invalid_scope');
  t.equal(problem.error_description, 'scope "admin" is not allowed');
  t.equal(up.requests.length, 0, 'nothing goes upstream without a credential');
});

t.test('DSN needing login: 502 naming `tokenshim login DSN`', async (t) => {
  const up = await startUpstream(t);
  const { server, stub } = await startProxy(t, [oauthDsn('crm', new URL(up.origin))]);
  stub('crm').failWith(new NeedsLoginError('crm', 'invalid_grant: refresh token revoked'));
  const { status, problem } = await problemOf(t, `${server.url}/crm/x`);
  t.equal(status, 502);
  t.equal(problem.code, 'TOKENSHIM_NEEDS_LOGIN');
  t.match(problem.detail, 'tokenshim login crm');
});

t.test(
  'an unexpected token engine error is shown by name only (its message may quote a secret)',
  async (t) => {
    const up = await startUpstream(t);
    const { server, stub } = await startProxy(t, [oauthDsn('api', new URL(up.origin))]);
    stub('api').failWith(new RangeError(`bad token ${SECRETS.refreshToken}`));
    const { status, problem } = await problemOf(t, `${server.url}/api/x`);
    t.equal(status, 502);
    t.equal(problem.code, 'TOKENSHIM_TOKEN_UNAVAILABLE');
    t.match(problem.detail, 'RangeError');
    t.notMatch(JSON.stringify(problem), SECRETS.refreshToken);
  },
);

t.test('upstream unreachable: 502 naming HostName', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const { server } = await startProxy(t, [
    oauthDsn('down', new URL(`http://127.0.0.1:${port}/v1`)),
  ]);
  const { status, problem } = await problemOf(t, `${server.url}/down/x`);
  t.equal(status, 502);
  t.equal(problem.code, 'TOKENSHIM_UPSTREAM_UNREACHABLE');
  t.equal(problem.dsn, 'down');
  t.match(problem.detail, /ECONNREFUSED.*HostName/);
});

// Which certificates are trusted is the transport's business, tested for the token endpoint and
// the upstream alike in test/net/dsn-dispatcher.test.ts; here, what a client is told.
t.test(
  'upstream TLS: an unknown CA is a 502 naming TrustStore; a certificate for another name, HostNameInCertificate',
  async (t) => {
    const up = await startUpstream(t, { tls: true });
    const other = await startUpstream(t, { tls: 'upstream.test' });
    const { server } = await startProxy(t, [
      oauthDsn('untrusted', new URL(up.origin)),
      oauthDsn('wrongname', new URL(other.origin), { trustStore: TEST_CA_FILE }),
    ]);
    const untrusted = await problemOf(t, `${server.url}/untrusted/x`);
    t.equal(untrusted.status, 502);
    t.equal(untrusted.problem.code, 'TOKENSHIM_UPSTREAM_TLS');
    t.match(untrusted.problem.detail, /TrustStore/);
    const wrong = await problemOf(t, `${server.url}/wrongname/x`);
    t.equal(wrong.problem.code, 'TOKENSHIM_UPSTREAM_TLS');
    t.match(wrong.problem.detail, /ERR_TLS_CERT_ALTNAME_INVALID.*HostNameInCertificate/);
  },
);

t.test('a TrustStore that cannot be read stops startup with the option named', async (t) => {
  const { startServer } = await import('../../lib/proxy/server.js');
  const { StubProvider } = await import('../fixtures/stub-provider.js');
  await t.rejects(
    startServer({
      port: 0,
      dsns: [
        oauthDsn('api', new URL('https://127.0.0.1:9'), { trustStore: '/nonexistent/ca.pem' }),
      ],
      createProvider: (d) => new StubProvider(d),
    }),
    { message: /DSN "api": TrustStore \/nonexistent\/ca.pem cannot be read \(ENOENT\)/ },
  );
});

t.test('upstream too slow: 504 naming HeadersTimeout', async (t) => {
  const held: (() => void)[] = [];
  const up = await startUpstream(t, {
    handler: (_req, res) => {
      held.push(() => res.end());
    },
  });
  t.teardown(() => held.forEach((f) => f()));
  const { server } = await startProxy(t, [
    // 50 ms: shorter than the whole seconds config accepts, so the test does not wait one
    { ...oauthDsn('slow', new URL(up.origin)), headersTimeoutSeconds: 0.05 },
  ]);
  const { status, problem } = await problemOf(t, `${server.url}/slow/x`);
  t.equal(status, 504);
  t.equal(problem.code, 'TOKENSHIM_UPSTREAM_TIMEOUT');
  t.match(problem.detail, /HeadersTimeout/);
});

t.test(
  'an upstream that never completes the TLS handshake: 504 naming ConnectTimeout',
  async (t) => {
    // undici's connect timeout covers TCP and TLS: a server that accepts and then says nothing
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.teardown(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as { port: number }).port;
    const { server } = await startProxy(t, [
      // 50 ms: shorter than the whole seconds config accepts, so the test does not wait one
      { ...oauthDsn('mute', new URL(`https://127.0.0.1:${port}`)), connectTimeoutSeconds: 0.05 },
    ]);
    const { status, problem } = await problemOf(t, `${server.url}/mute/x`);
    t.equal(status, 504);
    t.equal(problem.code, 'TOKENSHIM_UPSTREAM_TIMEOUT');
    t.match(problem.detail, /did not accept a connection.*ConnectTimeout/);
  },
);

t.test('a client that disconnects mid-request aborts the upstream request', async (t) => {
  let upstreamClosed!: () => void;
  const closedUpstream = new Promise<void>((resolve) => (upstreamClosed = resolve));
  let arrived!: () => void;
  const arrivedUpstream = new Promise<void>((resolve) => (arrived = resolve));
  const up = await startUpstream(t, {
    handler: (req, res) => {
      if (req.url === '/hang') {
        res.on('close', upstreamClosed);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        arrived();
        return;
      }
      res.end('ok');
    },
  });
  const { server } = await startProxy(t, [oauthDsn('api', new URL(up.origin))]);
  const controller = new AbortController();
  const pending = request(`${server.url}/api/hang`, { signal: controller.signal }).then((r) =>
    r.body.text(),
  );
  await arrivedUpstream;
  controller.abort();
  await t.rejects(pending);
  await closedUpstream;
  t.pass('the upstream saw its request end');
  const next = await request(`${server.url}/api/next`);
  t.equal(await next.body.text(), 'ok', 'the next request works');
  t.equal(server.inFlight, 0);
});

t.test(
  'an upstream that resets mid-response ends the client response; the next request works',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (req, res) => {
        if (req.url === '/reset') {
          res.writeHead(200, { 'content-length': '1000000' });
          res.write(Buffer.alloc(1000, 'a'), () => req.socket.destroy());
          return;
        }
        res.end('ok');
      },
    });
    const { server } = await startProxy(t, [oauthDsn('api', new URL(up.origin))]);
    const res = await request(`${server.url}/api/reset`);
    t.equal(res.statusCode, 200, 'the head had been sent');
    await t.rejects(res.body.text(), 'the body ends in an error, not a clean end');
    const next = await request(`${server.url}/api/next`);
    t.equal(await next.body.text(), 'ok');
  },
);

t.test(
  'a reset before any answer is retried once for idempotent requests, never for POST',
  async (t) => {
    let calls = 0;
    const up = await startUpstream(t, {
      handler: (req, res) => {
        calls++;
        // every odd request is cut, as by an upstream closing an idle keep-alive connection
        if (calls % 2 === 1) return void req.socket.destroy();
        res.end(`answered ${req.method}`);
      },
    });
    const { server } = await startProxy(t, [oauthDsn('api', new URL(up.origin))]);
    const get = await request(`${server.url}/api/x`);
    t.equal(get.statusCode, 200);
    t.equal(await get.body.text(), 'answered GET');
    t.equal(calls, 2, 'sent twice');
    const post = await problemOf(t, `${server.url}/api/x`, { method: 'POST', body: 'once' });
    t.equal(post.status, 502);
    t.equal(post.problem.code, 'TOKENSHIM_UPSTREAM_RESET');
    t.equal(calls, 3, 'a POST is not sent again');
  },
);

t.test('an upstream that resets before answering is a 502', async (t) => {
  const up = await startUpstream(t, { handler: (req) => void req.socket.destroy() });
  const { server } = await startProxy(t, [oauthDsn('api', new URL(up.origin))]);
  const { status, problem } = await problemOf(t, `${server.url}/api/x`);
  t.equal(status, 502);
  t.equal(problem.code, 'TOKENSHIM_UPSTREAM_RESET');
});

t.test(
  'upstream headers over the limit: 502 saying so and naming ResponseHeaderLimit, which lets them through',
  async (t) => {
    const up = await startUpstream(t, {
      handler: (_req, res) => {
        // an API gateway's cookies and policies can add up to more than node's 16 KiB
        res.writeHead(200, { 'content-type': 'text/plain', 'x-policy': 'p'.repeat(20_000) });
        res.end('big headers');
      },
    });
    const { server } = await startProxy(t, [
      oauthDsn('big', new URL(up.origin)),
      oauthDsn('bigger', new URL(up.origin), { responseHeaderLimitBytes: 64 * 1024 }),
    ]);
    const { status, problem } = await problemOf(t, `${server.url}/big/x`);
    t.equal(status, 502);
    t.equal(problem.code, 'TOKENSHIM_UPSTREAM_HEADERS_TOO_LARGE');
    t.match(problem.detail, /headers larger than 16384 bytes/);
    t.match(problem.detail, /ResponseHeaderLimit=65536/);
    t.notMatch(problem.detail, /closed the connection/);
    // the client needs a limit of its own that large
    const client = new Agent({ maxHeaderSize: 64 * 1024 });
    t.teardown(() => client.close());
    const res = await request(`${server.url}/bigger/x`, { dispatcher: client });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['x-policy'], 'p'.repeat(20_000));
    t.equal(await res.body.text(), 'big headers');
  },
);

t.test('no secret appears in any problem body', async (t) => {
  t.ok(bodies.length >= 8, 'bodies were collected');
  for (const body of bodies) {
    for (const secret of Object.values(SECRETS)) t.notMatch(body, secret);
    t.notMatch(body, /stub-[0-9a-f]{12}-\d/, 'no access token');
  }
});

t.test(
  'a client that disconnects mid-upload: nothing half-sent is completed, the proxy carries on',
  async (t) => {
    const { connect } = await import('node:net');
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((resolve) => (upstreamAborted = resolve));
    const up = await startUpstream(t, {
      readBody: false,
      handler: (req, res) => {
        req.on('error', () => undefined);
        req.on('close', () => {
          if (!req.complete) upstreamAborted();
        });
        req.resume();
        req.on('end', () => res.end('ok'));
      },
    });
    const { server } = await startProxy(t, [
      oauthDsn('api', new URL(up.origin), { replayBodyLimitBytes: 1000 }),
    ]);
    const cutAfter = (length: number, sent: number): Promise<void> =>
      new Promise((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write(
            `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: ${length}\r\n\r\n` +
              'x'.repeat(sent),
            () => setImmediate(() => socket.destroy()),
          );
        });
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });

    await cutAfter(500, 100); // a body the proxy buffers for replay: never sent upstream
    await cutAfter(100_000, 5_000); // a streamed body: the upstream request is aborted
    await aborted;
    t.equal(up.requests.length, 1, 'only the streamed one reached the upstream');
    const next = await request(`${server.url}/api/after`, { method: 'POST', body: 'fine' });
    t.equal(await next.body.text(), 'ok');
    t.equal(server.inFlight, 0);
  },
);
