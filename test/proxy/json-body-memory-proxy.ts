/**
 * Child process for the memory-bound test: tokenshim's proxy alone (a stub token engine), one DSN
 * whose HostName is the parent's upstream, so the RSS the parent reads from /proc is the proxy's
 * own and not the upstream's or the client's. Prints `{"url","pid"}` once it listens; exits when
 * its stdin closes.
 *
 *   node json-body-memory-proxy.js <upstream base URL>
 */
import { startServer } from '../../lib/proxy/server.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { StubProvider } from '../fixtures/stub-provider.js';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: json-body-memory-proxy <upstream base URL>');
const server = await startServer({
  dsns: [makeDsn({ name: 'mem', method: 54, upstream: new URL(upstream) })],
  port: 0,
  env: {},
  createProvider: (dsn) => new StubProvider(dsn),
});
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
process.stdin.resume();
process.stdin.once('end', () => void server.close({ drainMs: 0 }).then(() => process.exit(0)));
