import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interceptingConnectHandler } from '../../lib/proxy/connect/connect-handler.js';
import { LocalCa } from '../../lib/tls/local-ca.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startProxy } from '../proxy/proxy-harness.js';
import { createHttpsConnectLoad, createUpstreamTlsIdentity } from './https-connect-load.js';

t.test(
  'the HTTPS-through-CONNECT load generator drives requests through interception',
  async (t) => {
    const identity = await createUpstreamTlsIdentity('localhost');
    let withToken = 0;
    let withoutToken = 0;
    const upstream = createServer(
      { cert: identity.certificatePem, key: identity.keyPem },
      (req, res) => {
        if (req.headers.authorization?.startsWith('Bearer ')) withToken += 1;
        else withoutToken += 1;
        req.resume();
        res.end('{"ok":true}');
      },
    );
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    t.teardown(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    const port = (upstream.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), 'tokenshim-load-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'upstream-ca.pem'), identity.caPem);

    const { ca } = await LocalCa.create();
    const dsn = makeDsn({
      name: 'bench',
      method: 54,
      upstream: new URL(`https://localhost:${port}`),
      interceptTls: true,
      trustStore: join(dir, 'upstream-ca.pem'),
    });
    const proxy = await startProxy(t, [dsn], {
      createConnectHandler: interceptingConnectHandler({
        ca,
        onCreated: (h) => t.teardown(() => h.close()),
      }),
    });
    const load = createHttpsConnectLoad({ proxyUrl: proxy.server.url, caPem: ca.certificatePem });
    for (const postBytes of [undefined, 4096]) {
      const result = await load.run({
        url: `https://localhost:${port}/small`,
        connections: 2,
        durationSeconds: 0.3,
        ...(postBytes ? { postBytes } : {}),
      });
      t.comment(`${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latencyUs.p50} us`);
      t.ok(result.requests > 0, `requests made (post ${postBytes ?? 0})`);
      t.equal(result.non2xx, 0);
      t.equal(result.socketErrors, 0);
      t.ok(
        result.latencyUs.p50 <= result.latencyUs.p99 &&
          result.latencyUs.p99 <= result.latencyUs.max,
      );
    }
    t.equal(withoutToken, 0, 'every request reached the upstream with a token');
    t.ok(withToken > 0);
    t.equal(ca.leavesIssued, 1);
    await load.close();
  },
);
