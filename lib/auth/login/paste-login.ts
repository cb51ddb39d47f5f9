import type { DsnConfig } from '../../config/dsn.js';
import { LoginError } from '../../errors.js';
import type { TokenStore } from '../stores/token-store.js';
import { loginRefused, readPastedResponse } from './authorization-response.js';
import { buildAuthorizationUrl } from './authorization-url.js';
import { checkLoginDsn } from './login-dsn.js';
import { saveLogin, type LoginResult } from './login-result.js';
import { withLoginTimeout } from './login-timeout.js';
import {
  requestLoginToken,
  withLoginTransport,
  type LoginTransportDeps,
} from './login-token-request.js';
import { DEFAULT_CALLBACK_PATH } from './loopback-redirect.js';
import { createPkcePair, createState } from './pkce.js';

/**
 * The redirect_uri when RedirectURI is not set: the loopback address RFC 8252 7.3 has servers
 * accept on any port. Nothing needs to listen there: the person copies the address the browser
 * was sent to, whether the page loaded or not.
 */
export const PASTE_REDIRECT_URI = `http://127.0.0.1${DEFAULT_CALLBACK_PATH}`;

export interface PasteLoginDeps extends LoginTransportDeps {
  /** where the refresh token goes (the DSN's TokenStore) */
  readonly store: TokenStore;
  /** how long to wait for the pasted answer */
  readonly timeoutMs: number;
  /** what the person pastes, line by line (standard input) */
  readonly lines: AsyncIterable<string>;
  /** told the URL to open and the redirect_uri the browser will be sent to, before waiting */
  readonly showUrl: (url: string, redirectUri: string) => void;
  /** a pasted line that is not the answer to this login: said, and the wait goes on */
  readonly onIgnored: (why: string) => void;
}

export interface PasteLoginResult extends LoginResult {
  /** false when a bare code was pasted: there was no state to check (PKCE still held) */
  readonly stateChecked: boolean;
}

/**
 * `tokenshim login --paste`: the authorization-code flow with PKCE for a machine no browser can
 * reach (a headless server): the person opens the printed URL on any machine, logs in, and
 * pastes back the address the browser ended at (or the code). State and PKCE are checked as
 * for the loopback login; the refresh token is stored the same way.
 */
export async function loginWithPaste(
  dsn: DsnConfig,
  deps: PasteLoginDeps,
): Promise<PasteLoginResult> {
  const { startUri, tokenEndpoint } = checkLoginDsn(dsn, 'AuthURI', 'tokenshim login --paste');
  const redirectUri = dsn.redirectUri?.href ?? PASTE_REDIRECT_URI;
  const pkce = createPkcePair();
  const state = createState();
  return withLoginTransport(dsn, deps, async (transport) => {
    deps.showUrl(
      buildAuthorizationUrl(dsn, startUri, { redirectUri, state, pkce }).href,
      redirectUri,
    );
    const { code, stateChecked } = await withLoginTimeout(readAnswer(dsn.name, deps, state), {
      dsn: dsn.name,
      clock: transport.clock,
      timeoutMs: deps.timeoutMs,
      what: 'nothing was pasted',
      retry:
        'Authorization codes expire within minutes: run tokenshim login --paste again, or give a longer --timeout.',
    });
    const tokens = await requestLoginToken(
      dsn,
      tokenEndpoint,
      [
        ['grant_type', 'authorization_code'],
        ['code', code],
        ['redirect_uri', redirectUri],
        ['code_verifier', pkce.verifier],
      ],
      transport,
      [code, pkce.verifier],
    );
    return { ...(await saveLogin(dsn, deps.store, tokens, transport.clock)), stateChecked };
  });
}

async function readAnswer(
  dsn: string,
  deps: Pick<PasteLoginDeps, 'lines' | 'onIgnored'>,
  state: string,
): Promise<{ code: string; stateChecked: boolean }> {
  for await (const line of deps.lines) {
    if (line.trim() === '') continue;
    const answer = readPastedResponse(line, state);
    switch (answer.kind) {
      case 'code':
        return answer;
      case 'refused':
        throw loginRefused(dsn, answer.error, answer.description);
      case 'ignored':
        deps.onIgnored(answer.why);
    }
  }
  throw new LoginError(
    dsn,
    'standard input ended before the redirected address (or the code) was pasted. Run tokenshim ' +
      'login --paste at a terminal and paste the address the browser shows after the login.',
  );
}
