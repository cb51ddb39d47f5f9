import { LoginError } from '../../errors.js';

/**
 * The authorization response (RFC 6749 4.1.2) as it comes back: a redirect to the loopback
 * listener, or the redirected address (or just the code) a person pasted.
 */
export type AuthorizationResponse =
  | { readonly kind: 'code'; readonly code: string; readonly stateChecked: boolean }
  /** the provider refused (4.1.2.1): the login is over */
  | { readonly kind: 'refused'; readonly error: string; readonly description?: string }
  /** not the answer to this login; the wait goes on, with `why` said to the person */
  | { readonly kind: 'ignored'; readonly reason: 'state' | 'unreadable'; readonly why: string };

/**
 * Reads one authorization response's parameters. `state` must be ours (10.12: a response to
 * another login, or a forged one, must neither end nor hijack this one).
 */
export function readAuthorizationParams(
  params: URLSearchParams,
  state: string,
): AuthorizationResponse {
  const returned = params.get('state');
  if (returned !== state) {
    return {
      kind: 'ignored',
      reason: 'state',
      why:
        returned === null
          ? 'it carries no state, so it cannot be told apart from a forged one (RFC 6749 10.12)'
          : 'its state belongs to another login attempt, not this one (RFC 6749 10.12)',
    };
  }
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description');
    return { kind: 'refused', error, ...(description ? { description } : {}) };
  }
  const code = params.get('code');
  if (!code)
    return { kind: 'ignored', reason: 'unreadable', why: 'it carries no authorization code' };
  return { kind: 'code', code, stateChecked: true };
}

/**
 * What a person pasted after logging in elsewhere: the whole address the browser was sent to
 * (`http://127.0.0.1/callback?code=...&state=...`, whether or not that page loaded), its query
 * string alone, or the bare code that some providers' pages show. A bare code has no state to
 * check; PKCE still binds it to this login (RFC 7636 1: only the holder of the verifier can
 * redeem it).
 */
export function readPastedResponse(text: string, state: string): AuthorizationResponse {
  const pasted = text.trim().replace(/^["'<]+|[">']+$/g, '');
  if (pasted === '') return unreadable('the line is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pasted)) {
    let url: URL;
    try {
      url = new URL(pasted);
    } catch {
      return unreadable('it looks like an address but is not a valid URL');
    }
    // a provider answering with response_mode=fragment puts the parameters after the #
    const params = hasResponse(url.searchParams)
      ? url.searchParams
      : new URLSearchParams(url.hash.replace(/^#/, ''));
    if (!hasResponse(params)) {
      return unreadable(
        'it carries no code: paste the address the browser shows after you approved the login, ' +
          'not the one you opened',
      );
    }
    return readAuthorizationParams(params, state);
  }
  if (/^[?#]?[\w.~-]+=/.test(pasted) && /(^|[?#&])(code|error)=/.test(pasted)) {
    return readAuthorizationParams(new URLSearchParams(pasted.replace(/^[?#]/, '')), state);
  }
  if (/\s/.test(pasted)) {
    return unreadable('it is neither an address nor a code (it contains spaces)');
  }
  return { kind: 'code', code: pasted, stateChecked: false };
}

function unreadable(why: string): AuthorizationResponse {
  return { kind: 'ignored', reason: 'unreadable', why };
}

function hasResponse(params: URLSearchParams): boolean {
  return params.has('code') || params.has('error');
}

/** The provider said no (RFC 6749 4.1.2.1): what the person should change. */
export function loginRefused(dsn: string, error: string, description?: string): LoginError {
  const said = `${error}${description ? ` (${description})` : ''}`;
  return new LoginError(
    dsn,
    `the provider refused the login: ${said}. ` +
      (error === 'access_denied'
        ? 'Run tokenshim login again and approve the access request.'
        : 'Check ClientID, RedirectURI (registered with the provider?), Scope and AuthURI.'),
  );
}
