/**
 * The node alternative a user would reach for: http-proxy 1.18 in a plain node server, a
 * keep-alive agent to the upstream, and the credential set on `proxyReq` (a static token: http-proxy
 * has no token engine, so this is the best case for it).
 *
 *   node dist/bench/contestants/http-proxy-process.js <upstream URL> <Authorization value>
 */
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { failToParent, serveParent } from '../ipc.js';
import type { ProxyReady } from './tokenshim-process.js';

async function main(): Promise<void> {
  const [target, authorization] = process.argv.slice(2);
  if (!target || !authorization)
    throw new Error('usage: http-proxy-process.js <upstream> <authorization>');
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ target, agent });
  // http-proxy emits proxyReq on the outgoing request's 'socket' event, a tick after it has piped
  // the client's body in: a short POST can be written out whole before that, and setHeader then
  // throws (and would crash the process). A careful user guards it, and such a request leaves
  // without its credential: the upstream counts it as rejected.
  proxy.on('proxyReq', (proxyReq) => {
    if (!proxyReq.headersSent) proxyReq.setHeader('authorization', authorization);
  });
  proxy.on('error', (_err, _req, res) => {
    if ('writeHead' in res && !res.headersSent) res.writeHead(502);
    res.end();
  });
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => proxy.web(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  serveParent({ url: `http://127.0.0.1:${port}` } satisfies ProxyReady, {}, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    agent.destroy();
  });
}

main().catch(failToParent);
