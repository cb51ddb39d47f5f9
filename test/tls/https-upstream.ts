import { createServer as createHttpsServer } from 'node:https';
import { connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { LocalCa } from '../../lib/tls/local-ca.js';

/** What an upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpsUpstream {
  readonly port: number;
  /** PEM of the test CA that signed the upstream's certificate (not tokenshim's CA) */
  readonly caPem: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTPS server with a certificate for `host`, signed by a CA made for the test, that
 * answers every request with JSON describing what it received.
 */
export async function startHttpsUpstream(
  host: string,
  opts: { testCa?: LocalCa; name?: string } = {},
): Promise<HttpsUpstream> {
  const testCa = opts.testCa ?? (await LocalCa.create({ commonName: 'test upstream CA' })).ca;
  const leaf = await testCa.issueLeaf(host);
  const seen: SeenRequest[] = [];
  const server = createHttpsServer({ cert: leaf.certificatePem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          upstream: opts.name ?? host,
          url: entry.url,
          authorization: req.headers.authorization ?? null,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: testCa.certificatePem,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawConnectAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** still open after a 200; the caller owns it */
  readonly socket: Socket;
}

/** Sends `CONNECT target` over a plain socket and reads the proxy's answer (its body too). */
export function rawConnect(
  proxyPort: number,
  target: string,
  extraHeaders = '',
  /** the address to reach the proxy on (another interface: a client on another machine) */
  proxyHost = '127.0.0.1',
): Promise<RawConnectAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: proxyHost, port: proxyPort });
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine = '', ...lines] = buffered
        .subarray(0, end)
        .toString('latin1')
        .split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(statusLine.split(' ')[1]);
      const length = Number(headers['content-length'] ?? 0);
      const body = buffered.subarray(end + 4);
      if (body.length < length) return;
      socket.off('data', onData);
      resolve({ status, headers, body: body.subarray(0, length).toString('utf8'), socket });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${extraHeaders}\r\n`);
  });
}
