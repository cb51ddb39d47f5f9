import type { DsnConfig } from '../config/dsn.js';
import { isCertificateClientAuth } from '../config/values/client-credentials-mode.js';
import { clientAuthFor } from './client-auth.js';
import { buildTokenRequest, type TokenRequest } from './token-endpoint.js';

/** Where a DSN's token requests put their parameters and its client credentials, in words. */
export interface TokenRequestShape {
  /** `parameters in the form body`, `parameters in the URL query of the GET` */
  readonly parameters: string;
  /** `HTTP Basic header (ClientCredentialsMode=0)`, `client_id in the form body (public client...)` */
  readonly clientAuth: string;
}

/**
 * What `tokenshim check` says about a DSN's token requests, read off the request tokenshim would
 * build (buildTokenRequest with the DSN's real client authentication), so the words cannot drift
 * from what is sent: a GET carries everything in its URL whatever ClientCredentialsMode says, a
 * public client sends client_id beside the grant's parameters.
 */
export function describeTokenRequest(dsn: DsnConfig): TokenRequestShape | undefined {
  if (!dsn.tokenEndpoint) return undefined;
  const request = buildTokenRequest({
    endpoint: dsn.tokenEndpoint,
    format: dsn.tokenRequestFormat,
    grant: [['grant_type', dsn.grantType ?? '']],
    tokenParams: undefined,
    clientAuth: clientAuthFor(dsn),
  });
  const parameters = `parameters ${placeOf(request, 'grant_type')}`;
  return { parameters, clientAuth: clientAuthWords(dsn, request) };
}

function clientAuthWords(dsn: DsnConfig, request: TokenRequest): string {
  const mode = `ClientCredentialsMode=${dsn.clientCredentialsMode}`;
  if (dsn.clientId === undefined) return 'none (no ClientID): the grant alone proves the request';
  if (request.headers['authorization']?.startsWith('Basic ')) return `HTTP Basic header (${mode})`;
  const where = placeOf(request, 'client_id');
  if (isCertificateClientAuth(dsn.clientCredentialsMode)) {
    return `the TLS client certificate (ClientCertificate, RFC 8705), client_id ${where} (${mode})`;
  }
  if (dsn.clientSecret === undefined) return `public client (no ClientSecret): client_id ${where}`;
  const why =
    request.method === 'GET' && dsn.clientCredentialsMode === 3
      ? `${mode} asks for the body; a GET has none`
      : mode;
  return `client_id and client_secret ${where} (${why})`;
}

/** Where parameter `name` travels in `request`. */
function placeOf(request: TokenRequest, name: string): string {
  if (request.url.searchParams.has(name)) return `in the URL query of the ${request.method}`;
  return request.headers['content-type'] === 'application/json'
    ? 'in the JSON body'
    : 'in the form body';
}
