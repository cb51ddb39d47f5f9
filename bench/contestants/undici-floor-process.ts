/**
 * The floor for a node proxy built as tokenshim is (node:http in front, an undici pool behind):
 * the least such a proxy can do and still be correct, in a few lines, with no routing, token
 * engine, header rules, metrics or logs. Whatever tokenshim costs beyond this row is its own; what
 * this row costs beyond nginx is node's and undici's.
 *
 * Correct means what any proxy must do, because skipping it costs more later: backpressure both
 * ways, and the upstream request aborted when the client leaves. Without the abort, a client that
 * hangs up mid-body (every load generator does, at the end of each round) leaves the upstream
 * response paused forever on its connection, and the pool scans past every such connection on
 * each later request: the floor measured 1.2-1.6x its own cost after a few 1 MiB rounds.
 *
 *   node dist/bench/contestants/undici-floor-process.js <upstream URL> <Authorization value>
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { failToParent, serveParent } from '../ipc.js';
import type { ProxyReady } from './tokenshim-process.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

async function main(): Promise<void> {
  const [target, authorization] = process.argv.slice(2);
  if (!target || !authorization)
    throw new Error('usage: undici-floor-process.js <upstream> <authorization>');
  const origin = new URL(target).origin;
  const pool = new Pool(origin);
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) =>
    forward(pool, origin, authorization, req, res),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  serveParent({ url: `http://127.0.0.1:${port}` } satisfies ProxyReady, {}, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool.close();
  });
}

function forward(
  pool: Pool,
  origin: string,
  authorization: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const raw = req.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
  }
  headers.push('authorization', authorization);
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'];
  let abort: ((err?: Error) => void) | undefined;
  let resume: (() => void) | undefined;
  let clientGone = false;
  const onDrain = (): void => resume?.();
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    abort?.(new Error('the client closed the connection'));
  });
  const handler: Dispatcher.DispatchHandler = {
    onConnect(abortUpstream) {
      if (clientGone) abortUpstream(new Error('the client closed the connection'));
      else abort = abortUpstream;
    },
    onHeaders(status, rawHeaders, resumeUpstream) {
      const out: string[] = [];
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!.toString('latin1');
        if (!HOP_BY_HOP.has(name.toLowerCase()))
          out.push(name, rawHeaders[i + 1]!.toString('latin1'));
      }
      resume = resumeUpstream;
      res.writeHead(status, out);
      return true;
    },
    onData(chunk) {
      if (res.write(chunk)) return true;
      res.once('drain', onDrain);
      return false;
    },
    onComplete: () => res.end(),
    onError: () => {
      if (clientGone) return;
      if (!res.headersSent) res.writeHead(502);
      res.end();
    },
  };
  pool.dispatch(
    {
      origin,
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      headers,
      body: hasBody ? req : null,
    },
    handler,
  );
}

main().catch(failToParent);
