/**
 * One token request for one grant: parameters from the grant and the DSN (scope, TokenParams,
 * client authentication), sent to TokenURI, the answer read into a TokenSet. The build and parse
 * halves live in token-endpoint.ts; this is where a DSN's options meet them.
 */
import { secretsOf } from '../../config/secrets.js';
import type { Dispatcher } from 'undici';
import type { Clock } from '../../clock.js';
import type { DsnConfig, TokenEndpoint } from '../../config/dsn.js';
import { CODES, TokenshimError } from '../../errors.js';
import type { ClientAuth, TokenRequestParts } from '../client-auth.js';
import type { Grant } from '../grants/grant.js';
import {
  buildTokenRequest,
  parseTokenResponse,
  sendTokenRequest,
  type RawTokenResponse,
  type TokenSet,
} from '../token-endpoint.js';
import { refusesMethod, type TokenEndpointMethod } from '../token-endpoint-method.js';

export interface TokenRequestContext {
  readonly dsn: DsnConfig;
  /** the per-user subject substituted for `{user}` in TokenParams */
  readonly user: string | undefined;
  readonly clientAuth: ClientAuth;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  /** GET or POST for TokenURI: the DSN's token managers share what a refused GET taught */
  readonly endpointMethod: TokenEndpointMethod;
  /** a GET was refused and the same request by POST understood: say once to add the prefix */
  readonly onSwitchedToPost: (configured: TokenEndpoint, refusedWith: number) => void;
}

/** The tokens in hand when the request is made: secrets the answer might echo. */
export interface HeldTokens {
  readonly refreshToken: string | undefined;
  readonly accessToken: string | undefined;
}

/** How long an answer is waited for, and what stops the wait sooner. */
export interface AnswerWait {
  /** ends the wait (the reason is what the request rejects with) */
  readonly signal?: AbortSignal;
  /** the longest wait for headers and for the body; default HeadersTimeout */
  readonly timeoutMs?: number;
  /** called as the request leaves (the wait is counted from here, not from a lock wait) */
  readonly onSent?: () => void;
}

/**
 * Sends `grant`'s token request and reads the answer. `onSend` runs as each request leaves, after
 * the grant's parameters were built (a JWT assertion that cannot be signed is no token request):
 * twice when a GET is refused and asked again by POST (token-endpoint-method.ts).
 * Rejects with a TokenEndpointError (or a TokenshimError for a DSN without TokenURI).
 */
export async function requestToken(
  grant: Grant,
  ctx: TokenRequestContext,
  held: HeldTokens,
  onSend: (endpoint: TokenEndpoint) => void,
  wait: AnswerWait = {},
): Promise<TokenSet> {
  const { dsn } = ctx;
  const endpoint = grant.endpoint?.(dsn) ?? dsn.tokenEndpoint;
  if (!endpoint) {
    throw new TokenshimError(
      CODES.CONFIG,
      `DSN "${dsn.name}": AuthenticationMethod=${dsn.method.code} needs TokenURI (the OAuth token endpoint).`,
      { dsn: dsn.name },
    );
  }
  const params = await grant.params({ dsn, clock: ctx.clock });
  const timeoutMs = wait.timeoutMs ?? dsn.headersTimeoutSeconds * 1000;
  const send = async (to: TokenEndpoint): Promise<{ raw: RawTokenResponse; sentAt: number }> => {
    const request = buildTokenRequest({
      endpoint: to,
      format: dsn.tokenRequestFormat,
      grant: params,
      scope: dsn.scope,
      tokenParams: dsn.tokenParams,
      clientAuth: ctx.clientAuth,
      user: ctx.user,
    });
    const sentAt = ctx.clock.now();
    onSend(to);
    wait.onSent?.();
    const raw = await sendTokenRequest(request, {
      dispatcher: ctx.dispatcher,
      dsn: dsn.name,
      headersTimeoutMs: timeoutMs,
      bodyTimeoutMs: timeoutMs,
      ...(wait.signal === undefined ? {} : { signal: wait.signal }),
    });
    return { raw, sentAt };
  };

  let to = ctx.endpointMethod.endpoint(endpoint);
  let answer = await send(to);
  if (to.method === 'GET' && refusesMethod(answer.raw)) {
    // once, by POST; a server that refuses that too has the wrong URL, and its GET answer says so
    const post: TokenEndpoint = { ...to, method: 'POST' };
    const retry = await send(post);
    if (!refusesMethod(retry.raw)) {
      if (ctx.endpointMethod.switchToPost()) ctx.onSwitchedToPost(endpoint, answer.raw.status);
      to = post;
      answer = retry;
    }
  }
  return parseTokenResponse(answer.raw, {
    dsn: dsn.name,
    endpoint: to,
    sentAt: answer.sentAt,
    defaultLifetimeSeconds: dsn.defaultTokenLifetimeSeconds,
    secrets: tokenRequestSecrets(dsn, ctx.clientAuth, held),
  });
}

/** Every secret a token request carries, to blank out of an answer that quotes it back. */
export function tokenRequestSecrets(
  dsn: DsnConfig,
  clientAuth: ClientAuth,
  held: HeldTokens,
): string[] {
  // the Basic credentials as sent, in case the server echoes the Authorization header
  const probe: TokenRequestParts = { headers: {}, query: [], body: new Map() };
  clientAuth(probe);
  const basic = probe.headers['authorization']?.replace(/^Basic /, '');
  return [basic, held.refreshToken, held.accessToken, ...secretsOf(dsn)].filter(
    (s): s is string => s !== undefined,
  );
}
