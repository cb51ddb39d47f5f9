/**
 * RFC 7009: asking RevokeURI to revoke one token. The request is a form POST with the client's
 * authentication as at TokenURI (2.1); the answer is read without sockets (readRevocationAnswer).
 */
import type { DsnConfig } from '../../config/dsn.js';
import { secretsOf } from '../../config/secrets.js';
import { LogoutError } from '../../errors.js';
import { clientAuthFor } from '../client-auth.js';
import type { LoginTransport } from '../login/login-token-request.js';
import { oauthErrorHint } from '../oauth-error-advice.js';
import { redactSecrets } from '../redact-secrets.js';
import { buildTokenRequest, sendTokenRequest, type RawTokenResponse } from '../token-endpoint.js';

export type TokenTypeHint = 'refresh_token' | 'access_token';

/** revoked, or the server does not revoke tokens of that type (2.2.1 unsupported_token_type) */
export type RevocationOutcome = 'revoked' | 'unsupported';

export async function revokeToken(
  dsn: DsnConfig,
  revokeUri: URL,
  token: { readonly value: string; readonly hint: TokenTypeHint },
  transport: LoginTransport,
): Promise<RevocationOutcome> {
  const request = buildTokenRequest({
    endpoint: { method: 'POST', url: revokeUri },
    format: 'form',
    grant: [
      ['token', token.value],
      ['token_type_hint', token.hint],
    ],
    clientAuth: clientAuthFor(dsn),
  });
  let raw: RawTokenResponse;
  try {
    raw = await sendTokenRequest(request, {
      dispatcher: transport.dispatcher,
      dsn: dsn.name,
      endpointName: 'the revocation endpoint (RevokeURI)',
    });
  } catch (e) {
    throw new LogoutError(dsn.name, `${(e as Error).message.replace(/^DSN "[^"]*": /, '')}`, {
      cause: e,
    });
  }
  return readRevocationAnswer(raw, {
    dsn: dsn.name,
    endpoint: revokeUri,
    hint: token.hint,
    secrets: [token.value, ...secretsOf(dsn)],
  });
}

/**
 * 2.2: 200 means revoked (an unknown or already invalid token included); 2.2.1: an OAuth error,
 * of which unsupported_token_type only says the server keeps tokens of that type until they
 * expire. Anything else is a LogoutError quoting the server, secrets blanked out.
 */
export function readRevocationAnswer(
  res: RawTokenResponse,
  ctx: {
    readonly dsn: string;
    readonly endpoint: URL;
    readonly hint: TokenTypeHint;
    readonly secrets: readonly string[];
  },
): RevocationOutcome {
  if (res.status === 200) return 'revoked';
  const where = `RevokeURI (POST ${ctx.endpoint.origin}${ctx.endpoint.pathname})`;
  const what = ctx.hint === 'refresh_token' ? 'the refresh token' : 'the access token';
  let error: string | undefined;
  let description: string | undefined;
  try {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    if (typeof body['error'] === 'string') error = body['error'];
    if (typeof body['error_description'] === 'string') description = body['error_description'];
  } catch {
    // not JSON: the status says it
  }
  if (error === 'unsupported_token_type') return 'unsupported';
  const said =
    error === undefined
      ? `HTTP ${res.status}`
      : `${res.status} ${error}${description ? ` ("${description}")` : ''}`;
  const advice =
    res.status === 503 || res.status === 429 || res.status >= 500
      ? 'The provider reports a problem on its side: run tokenshim logout again later.'
      : error === undefined
        ? "Check that RevokeURI is the provider's revocation endpoint."
        : oauthErrorHint(error, res.status);
  throw new LogoutError(
    ctx.dsn,
    `${where} did not revoke ${what}: it answered ${redactSecrets(said, ctx.secrets)}. ${advice}`,
  );
}
