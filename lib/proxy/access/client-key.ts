import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ClientKeyError, TooManyAttemptsError, type TokenshimError } from '../../errors.js';
import { sendProblem } from '../../http/problem.js';
import type { ExchangeTarget } from '../forward/exchange.js';
import type { KeyGate } from './key-gate.js';

/** the header a client may carry a DSN's ClientKey in, instead of HTTP Basic */
export const CLIENT_KEY_HEADER = 'x-tokenshim-key';

/** The ClientKey a request presents, and whether it came in Authorization. */
export interface PresentedKey {
  readonly key: string | undefined;
  /** the key was the password of `Authorization: Basic`: that header is tokenshim's, not the API's */
  readonly inAuthorization: boolean;
}

const NONE: PresentedKey = Object.freeze({ key: undefined, inAuthorization: false });

/**
 * Where a client puts the key: `X-Tokenshim-Key`; else the password of `Authorization: Basic`
 * (what Qlik's REST connector sends with its "Basic" authentication: any user name); else the
 * password of `Proxy-Authorization: Basic` (a client given `http://user:KEY@host:8790` as its proxy).
 */
export function presentedClientKey(headers: IncomingHttpHeaders): PresentedKey {
  const header = headers[CLIENT_KEY_HEADER];
  if (header !== undefined)
    return { key: Array.isArray(header) ? header[0] : header, inAuthorization: false };
  const basic = basicPassword(headers.authorization);
  if (basic !== undefined) return { key: basic, inAuthorization: true };
  const proxy = basicPassword(headers['proxy-authorization']);
  return proxy === undefined ? NONE : { key: proxy, inAuthorization: false };
}

/** RFC 7617: `Basic base64(user-id ":" password)`; undefined for any other scheme. */
function basicPassword(value: string | undefined): string | undefined {
  if (value === undefined || !/^basic\s/i.test(value)) return undefined;
  const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * A DSN with a ClientKey forwards only requests that present it. Returns the target to forward
 * (noting that Authorization carried the key, so it is removed before the DSN's credential is
 * attached), or undefined after answering 401 or 429.
 */
export function admitClient(
  target: ExchangeTarget,
  req: IncomingMessage,
  res: ServerResponse,
  gate: KeyGate,
): ExchangeTarget | undefined {
  const dsn = target.binding.dsn;
  if (dsn.clientKey === undefined) return target;
  const presented = presentedClientKey(req.headers);
  const verdict = gate.check(
    {
      kind: 'client_key',
      dsn: dsn.name,
      address: req.socket.remoteAddress ?? 'unknown',
      presented: presented.key,
    },
    [dsn.clientKey],
  );
  if (verdict === 'ok') {
    return presented.inAuthorization ? { ...target, clientKeyInAuthorization: true } : target;
  }
  sendKeyRefusal(
    res,
    verdict === 'missing' || verdict === 'wrong' ? new ClientKeyError(dsn.name, verdict) : verdict,
    `tokenshim ${dsn.name}`,
  );
  return undefined;
}

/**
 * A refused key as problem+json: 401 with a Basic challenge (clients such as Qlik's send the key
 * only once asked), or 429 with Retry-After for a locked-out address.
 */
export function sendKeyRefusal(res: ServerResponse, error: TokenshimError, realm: string): void {
  if (error instanceof TooManyAttemptsError) {
    res.setHeader('retry-after', String(error.retryAfterSeconds));
  } else if (error.status === 401) {
    res.setHeader(
      'www-authenticate',
      `Basic realm="${realm.replace(/["\\]/g, '')}", charset="UTF-8"`,
    );
  }
  sendProblem(res, error);
}
