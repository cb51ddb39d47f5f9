import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DemoTokenLedger } from './demo-token-ledger.js';

/** `POST /oauth2/token` of the demo: the refresh_token grant, client id and secret in HTTP Basic. */
export const DEMO_TOKEN_PATH = '/oauth2/token';

/**
 * The demo's token endpoint (RFC 6749 6): `grant_type=refresh_token` with the client in HTTP
 * Basic (2.3.1), answering a new access token and a new refresh token each time.
 */
export function demoTokenEndpoint(ledger: DemoTokenLedger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== DEMO_TOKEN_PATH) {
      return json(res, 404, {
        error: 'not_found',
        error_description: `POST ${DEMO_TOKEN_PATH} only`,
      });
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const form = new URLSearchParams(body);
    const [id, secret] = basicCredentials(req.headers.authorization);
    if (!ledger.clientMatches(id, secret)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="tokenshim demo"');
      return json(res, 401, {
        error: 'invalid_client',
        error_description: 'unknown client or wrong secret',
      });
    }
    if (form.get('grant_type') !== 'refresh_token') {
      return json(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'the demo knows refresh_token only',
      });
    }
    const issued = ledger.refresh(form.get('refresh_token') ?? undefined);
    if (!issued) {
      return json(res, 400, {
        error: 'invalid_grant',
        error_description:
          'refresh token unknown or already used (they rotate: each one works once)',
      });
    }
    res.setHeader('Cache-Control', 'no-store');
    json(res, 200, {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: issued.expiresInSeconds,
      refresh_token: issued.refreshToken,
    });
  };
}

/** RFC 6749 2.3.1: the id and secret are form-encoded before they are joined and base64-encoded. */
function basicCredentials(header: string | undefined): [string | undefined, string | undefined] {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return [undefined, undefined];
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return [undefined, undefined];
  const unform = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
  return [unform(decoded.slice(0, colon)), unform(decoded.slice(colon + 1))];
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
