import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DsnConfig } from '../../config/dsn.js';
import { ConfigError, LoginError } from '../../errors.js';
import { loginRefused, readAuthorizationParams } from './authorization-response.js';

/** The path used when RedirectURI is not set. */
export const DEFAULT_CALLBACK_PATH = '/callback';

export interface RedirectTarget {
  /** the address to listen on */
  readonly host: string;
  /** 0: any free port (RFC 8252 7.3) */
  readonly port: number;
  readonly path: string;
  /** the host as written in redirect_uri (`127.0.0.1`, `localhost`, `[::1]`) */
  readonly uriHost: string;
}

/**
 * Where the browser will be sent back to: the DSN's RedirectURI, which must be plain http on a
 * loopback address (RFC 8252 7.3: the native-app redirect; nothing else can be served from here).
 * Without RedirectURI, or without a port in it, any free port is used, as RFC 8252 7.3 says
 * servers must allow for loopback redirects.
 */
export function redirectTarget(dsn: DsnConfig): RedirectTarget {
  const uri = dsn.redirectUri;
  if (!uri)
    return { host: '127.0.0.1', port: 0, path: DEFAULT_CALLBACK_PATH, uriHost: '127.0.0.1' };
  const host = uri.hostname;
  const loopback =
    host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (uri.protocol !== 'http:' || !loopback) {
    throw new ConfigError(
      `DSN "${dsn.name}": tokenshim login receives the browser's redirect on this machine, so ` +
        `RedirectURI must be http://127.0.0.1:<port>/<path> (or localhost); it is ${uri.origin}${uri.pathname}. ` +
        'Register such a redirect URI with the provider and set RedirectURI to it.',
    );
  }
  return {
    host: host === 'localhost' ? '127.0.0.1' : host === '[::1]' ? '::1' : host,
    port: uri.port === '' ? 0 : Number(uri.port),
    path: uri.pathname || '/',
    uriHost: host,
  };
}

export interface LoopbackResponse {
  readonly code: string;
}

export interface LoopbackRedirect {
  /** the redirect_uri to send in the authorization and token requests */
  readonly redirectUri: string;
  /** the authorization code, once a redirect with the right state arrives */
  readonly response: Promise<LoopbackResponse>;
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly dsn: string;
  readonly target: RedirectTarget;
  readonly state: string;
  /** a redirect whose state did not match arrived (and was answered 400) */
  readonly onStateMismatch?: () => void;
}

/**
 * A one-shot HTTP listener for the authorization response (RFC 6749 4.1.2). A redirect whose
 * `state` does not match is refused and the wait goes on (authorization-response.ts).
 */
export async function listenForRedirect(opts: ListenOptions): Promise<LoopbackRedirect> {
  const { target, state, dsn } = opts;
  let settle: { resolve(r: LoopbackResponse): void; reject(e: Error): void } | undefined;
  const response = new Promise<LoopbackResponse>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // a caller that gives up (timeout) closes the listener and never awaits `response`
  response.catch(() => undefined);
  let done = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (url.pathname !== target.path || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return page(
        res,
        404,
        'Not found',
        "This is tokenshim login's redirect listener; nothing else lives here.",
      );
    }
    if (done) {
      return page(
        res,
        410,
        'Login already finished',
        'tokenshim has its answer. You can close this window.',
      );
    }
    const answer = readAuthorizationParams(url.searchParams, state);
    switch (answer.kind) {
      case 'ignored':
        if (answer.reason === 'state') opts.onStateMismatch?.();
        return page(
          res,
          400,
          'Login not accepted',
          `This redirect was ignored: ${answer.why}. ` +
            (answer.reason === 'state' ? 'Start again from the URL tokenshim printed.' : ''),
        );
      case 'refused':
        done = true;
        page(
          res,
          400,
          'Login failed',
          `The provider answered ${answer.error}${answer.description ? ` (${answer.description})` : ''}. ` +
            'See the terminal for what to do.',
        );
        settle?.reject(loginRefused(dsn, answer.error, answer.description));
        return;
      case 'code':
        done = true;
        page(
          res,
          200,
          'Logged in',
          `tokenshim received the login for DSN "${dsn}". You can close this window.`,
        );
        settle?.resolve({ code: answer.code });
        return;
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new LoginError(
          dsn,
          e.code === 'EADDRINUSE'
            ? `cannot listen for the login redirect on ${target.uriHost}:${target.port}: the port is in use. ` +
                'Close the program using it, or register another loopback RedirectURI with the provider and set it here.'
            : `cannot listen for the login redirect on ${target.uriHost}:${target.port} (${e.code ?? e.message}).`,
          { cause: e },
        ),
      ),
    );
    server.listen(target.port, target.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://${target.uriHost}:${port}${target.path}`,
    response,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tokenshim login</title>' +
    '<style>body{font:16px/1.5 system-ui,sans-serif;margin:15vh auto;max-width:34em;padding:0 1em;color:#1f2328}' +
    `h1{font-size:22px;color:${status === 200 ? '#1a7f37' : '#cf222e'}}</style></head>` +
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    // the URL held a code: do not pass it on to anything this page could link to
    'referrer-policy': 'no-referrer',
    connection: 'close',
  });
  res.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
