import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../../clock.js';
import type { DsnConfig, TokenEndpoint } from '../../config/dsn.js';
import { secretsOf } from '../../config/secrets.js';
import { createDsnDispatcher } from '../../net/dsn-dispatcher.js';
import { clientAuthFor } from '../client-auth.js';
import {
  buildTokenRequest,
  parseTokenResponse,
  sendTokenRequest,
  type TokenSet,
} from '../token-endpoint.js';

/** What every login flow needs to talk to the provider. */
export interface LoginTransportDeps {
  readonly clock?: Clock;
  /** HTTP client for the provider's endpoints; default: the DSN's transport, as the proxy uses */
  readonly dispatcher?: Dispatcher;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY for those requests; default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

export interface LoginTransport {
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
}

/**
 * Runs `fn` with the DSN's token-endpoint transport (its TrustStore, ClientCertificate and proxy
 * rules), made for the login and closed after it unless the caller brought one.
 */
export async function withLoginTransport<T>(
  dsn: DsnConfig,
  deps: LoginTransportDeps,
  fn: (transport: LoginTransport) => Promise<T>,
): Promise<T> {
  const dispatcher =
    deps.dispatcher ??
    createDsnDispatcher(dsn, { purpose: 'token-endpoint', env: deps.env ?? process.env });
  try {
    return await fn({ clock: deps.clock ?? systemClock, dispatcher });
  } finally {
    if (deps.dispatcher === undefined) await dispatcher.close().catch(() => undefined);
  }
}

/**
 * One token request of a login (the code exchange, a device-code poll) to TokenURI, with the
 * DSN's client authentication and TokenParams. No Scope: it belongs to the authorization request
 * (RFC 6749 4.1.3, RFC 8628 3.4), and the grant carries it over.
 */
export async function requestLoginToken(
  dsn: DsnConfig,
  tokenEndpoint: TokenEndpoint,
  grant: readonly (readonly [string, string])[],
  transport: LoginTransport,
  secrets: readonly string[],
): Promise<TokenSet> {
  const request = buildTokenRequest({
    endpoint: tokenEndpoint,
    format: dsn.tokenRequestFormat,
    grant,
    tokenParams: dsn.tokenParams,
    clientAuth: clientAuthFor(dsn),
  });
  const sentAt = transport.clock.now();
  const raw = await sendTokenRequest(request, { dispatcher: transport.dispatcher, dsn: dsn.name });
  return parseTokenResponse(raw, {
    dsn: dsn.name,
    endpoint: tokenEndpoint,
    sentAt,
    defaultLifetimeSeconds: dsn.defaultTokenLifetimeSeconds,
    secrets: [...secretsOf(dsn), ...secrets],
  });
}
