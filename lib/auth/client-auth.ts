import type { DsnConfig } from '../config/dsn.js';
import { isCertificateClientAuth } from '../config/values/client-credentials-mode.js';

/**
 * Where a token request's parts are assembled before they are serialised: client authentication
 * adds to them. `body` holds what goes in the form or JSON body (or the query string, for GET).
 */
export interface TokenRequestParts {
  readonly headers: Record<string, string>;
  /** parameters that always travel in the URL (ClientCredentialsMode=2) */
  readonly query: [string, string][];
  readonly body: Map<string, unknown>;
}

/** One way of authenticating the client at the token endpoint (oauth4webapi's ClientAuth). */
export type ClientAuth = (parts: TokenRequestParts) => void;

/**
 * RFC 6749 2.3.1: "the client identifier is encoded using the application/x-www-form-urlencoded
 * encoding algorithm ... and the encoded value is used as the username; the client password is
 * encoded using the same algorithm and used as the password". Servers that follow it (oidc-provider,
 * Keycloak) form-decode, so a secret with `+`, `/`, `=`, `:`, `%` or `#` sent raw would not match.
 */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** ClientCredentialsMode 0 and 1: `Authorization: Basic base64(form(id):form(secret))`. */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuth {
  const credentials = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString(
    'base64',
  );
  return (parts) => {
    parts.headers['authorization'] = `Basic ${credentials}`;
  };
}

/** ClientCredentialsMode 2 (Marketo and other GET token endpoints): credentials in the URL. */
export function clientSecretQuery(clientId: string, clientSecret: string): ClientAuth {
  return (parts) => {
    parts.query.push(['client_id', clientId], ['client_secret', clientSecret]);
  };
}

/** ClientCredentialsMode 3, RFC 6749 2.3.1 client_secret_post: credentials in the request body. */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuth {
  return (parts) => {
    parts.body.set('client_id', clientId);
    parts.body.set('client_secret', clientSecret);
  };
}

/** A public client (no secret): RFC 6749 3.2.1 still wants client_id in the request. */
export function clientIdOnly(clientId: string): ClientAuth {
  return (parts) => {
    parts.body.set('client_id', clientId);
  };
}

/**
 * RFC 8705 tls_client_auth (2.1) and self_signed_tls_client_auth (2.2): the TLS client certificate,
 * which the DSN's transport presents on every connection (lib/net/dsn-tls.ts), proves who the
 * client is; the request names it with client_id ("MUST") and carries no secret.
 */
export function tlsClientAuth(clientId: string): ClientAuth {
  return clientIdOnly(clientId);
}

/** No client authentication at all (no ClientID): the grant's own parameters carry the proof. */
export const noClientAuth: ClientAuth = () => undefined;

/** The client authentication a DSN's ClientID, ClientSecret and ClientCredentialsMode ask for. */
export function clientAuthFor(dsn: DsnConfig): ClientAuth {
  const { clientId, clientSecret } = dsn;
  if (clientId === undefined || clientId === '') return noClientAuth;
  if (isCertificateClientAuth(dsn.clientCredentialsMode)) return tlsClientAuth(clientId);
  if (clientSecret === undefined || clientSecret === '') return clientIdOnly(clientId);
  switch (dsn.clientCredentialsMode) {
    case 0:
    case 1:
      return clientSecretBasic(clientId, clientSecret);
    case 2:
      return clientSecretQuery(clientId, clientSecret);
    case 3:
      return clientSecretPost(clientId, clientSecret);
  }
}
