import { execFile } from 'node:child_process';
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';

export interface PlainResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A request through tokenshim as an HTTP proxy, the way node's http (and HTTP_PROXY-aware clients
 * built on it) send one: the absolute URL in the request line, Host naming the target.
 */
export function viaProxy(
  proxyPort: number,
  absoluteUrl: string,
  opts: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {},
): Promise<PlainResponse> {
  const target = new URL(absoluteUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: proxyPort,
      method: opts.method ?? 'GET',
      path: absoluteUrl,
      headers: { host: target.host, ...opts.headers },
      agent: false,
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A plain request with a Host header of our choosing (fetch and undici will not send a forged one). */
export function withHost(
  url: string,
  host: string,
  opts: { method?: string } = {},
): Promise<PlainResponse> {
  return viaProxyless(url, { host }, opts.method);
}

function viaProxyless(
  url: string,
  headers: OutgoingHttpHeaders,
  method = 'GET',
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface CurlResult {
  readonly exitCode: number;
  readonly status: number;
  readonly body: string;
  readonly stderr: string;
}

/** Runs curl with `args`, printing the status on the last line (`-w`); no proxy from the env. */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--noproxy', '', '-w', '\n%{http_code}', ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const cut = stdout.lastIndexOf('\n');
        resolve({
          exitCode: err ? ((err as { code?: number }).code ?? 1) : 0,
          status: Number(stdout.slice(cut + 1)),
          body: stdout.slice(0, cut),
          stderr,
        });
      },
    );
  });
}
