import type { TokenEndpoint } from '../config/dsn.js';
import type { RawTokenResponse } from './token-endpoint.js';

/**
 * DataDirect sends TokenURI a GET unless it starts with `POST `, and its own examples leave the
 * prefix out for endpoints that want POST (Google's, in the refresh-token page). Such an endpoint
 * answers the GET with 405, or with a 404 or 400 error page; Microsoft Entra ID with its
 * AADSTS900561 OAuth error. tokenshim then asks once more by POST and, when that is understood,
 * keeps POST for the DSN (its token managers share one of these) and says once to add the prefix.
 */
export class TokenEndpointMethod {
  #post = false;

  /** The endpoint to send to: as configured, or POST once a GET was refused. */
  endpoint(configured: TokenEndpoint): TokenEndpoint {
    return this.#post && configured.method === 'GET'
      ? { ...configured, method: 'POST' }
      : configured;
  }

  /** A POST was understood where the GET was refused: POST from now on. True the first time. */
  switchToPost(): boolean {
    if (this.#post) return false;
    this.#post = true;
    return true;
  }
}

/** The answer of a server that wants another method than the one it got. */
export function refusesMethod(res: RawTokenResponse): boolean {
  if (res.status === 405) return true;
  if (res.status === 404 || res.status === 400) {
    const type = headerValue(res.headers['content-type']) ?? '';
    if (/^text\/html/i.test(type) || /^\s*</.test(res.body)) return true;
  }
  // Entra ID: "AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a GET request."
  return res.status === 400 && /AADSTS900561|only accepts POST/i.test(res.body);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
