/**
 * tokenshim's real proxy (startServer) with the CONNECT handler plugged in, a CA made by
 * `tokenshim ca init`, and HTTPS upstreams on loopback whose certificates tokenshim verifies
 * through the DSN's TrustStore: the DSN `api` intercepts TLS to `localhost:<upstream.port>`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { runCa } from '../../lib/cli/ca.js';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { createLogger } from '../../lib/log/logger.js';
import { interceptingConnectHandler } from '../../lib/proxy/connect/connect-handler.js';
import type { ConnectEvent } from '../../lib/proxy/connect/types.js';
import { loadLocalCa } from '../../lib/tls/ca-store.js';
import type { LocalCa } from '../../lib/tls/local-ca.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { startHttpsUpstream, type HttpsUpstream } from '../tls/https-upstream.js';
import { startProxy, type ProxyUnderTest } from './proxy-harness.js';

export interface Rig {
  proxy: ProxyUnderTest;
  upstream: HttpsUpstream;
  other: HttpsUpstream;
  ca: LocalCa;
  caCertificatePath: string;
  events: ConnectEvent[];
  logLines: string[];
}

export async function startRig(
  t: Test,
  opts: { tunnelOtherHosts?: boolean; clientTimeouts?: { headersMs: number; idleMs: number } } = {},
): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'tokenshim-connect-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const upstream = await startHttpsUpstream('localhost', { name: 'dsn-upstream' });
  t.teardown(() => upstream.close());
  const other = await startHttpsUpstream('127.0.0.1', { name: 'other-host' });
  t.teardown(() => other.close());
  const trustStore = join(dir, 'upstream-ca.pem');
  await writeFile(trustStore, upstream.caPem);

  const caDir = join(dir, 'ca');
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  const made = await runCa(['init', '--dir', caDir], { stdout: silent, stderr: silent, env: {} });
  t.equal(made, 0, 'tokenshim ca init');
  const ca = await loadLocalCa(caDir);
  if (!ca) throw new Error('ca init made no CA');

  const dsns: DsnConfig[] = [
    makeDsn({
      name: 'api',
      method: 54,
      upstream: new URL(`https://localhost:${upstream.port}/rest/v1`),
      interceptTls: true,
      trustStore,
    }),
    // a DSN elsewhere whose only part here is TunnelOtherHosts, which applies to the listener
    makeDsn({
      name: 'elsewhere',
      method: 54,
      upstream: new URL('https://elsewhere.invalid'),
      tunnelOtherHosts: opts.tunnelOtherHosts ?? false,
    }),
  ];
  const events: ConnectEvent[] = [];
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  });
  const proxy = await startProxy(t, dsns, {
    logger,
    ...(opts.clientTimeouts ? { clientTimeouts: opts.clientTimeouts } : {}),
    createConnectHandler: interceptingConnectHandler({
      ca,
      logger,
      onConnect: (e) => events.push(e),
      onCreated: (handler) => t.teardown(() => handler.close()),
    }),
  });
  return {
    proxy,
    upstream,
    other,
    ca,
    caCertificatePath: join(caDir, 'tokenshim-ca.crt'),
    events,
    logLines,
  };
}
