/**
 * RFC 8628 3.1-3.2: asking DeviceAuthURI for a device code and the user code a person types in
 * elsewhere. Build and send in one function; reading the answer is pure, tested without sockets.
 */
import type { DsnConfig } from '../../config/dsn.js';
import { secretsOf } from '../../config/secrets.js';
import { LoginError } from '../../errors.js';
import { clientAuthFor } from '../client-auth.js';
import { oauthErrorHint } from '../oauth-error-advice.js';
import { redactSecrets } from '../redact-secrets.js';
import { buildTokenRequest, sendTokenRequest, type RawTokenResponse } from '../token-endpoint.js';
import type { LoginTransport } from './login-token-request.js';

export interface DeviceAuthorization {
  /** what the token requests carry; a secret (with the client's id it can be redeemed) */
  readonly deviceCode: string;
  /** what the person types at the verification page */
  readonly userCode: string;
  readonly verificationUri: string;
  /** the page with the code filled in, when the provider offers one */
  readonly verificationUriComplete?: string;
  readonly expiresInSeconds: number;
  /** seconds between polls (3.2: 5 when the provider says nothing) */
  readonly intervalSeconds: number;
}

const DEFAULT_INTERVAL_SECONDS = 5;
/** expires_in is required (3.2); a provider that leaves it out gets the common 15 minutes */
const DEFAULT_EXPIRES_IN_SECONDS = 900;

/**
 * POSTs the device authorization request: the client authenticates as at TokenURI (3.1: "the
 * client authentication requirements of Section 3.2.1 of [RFC6749] apply"), with Scope and the
 * DSN's TokenParams (Auth0 wants its `audience` here).
 */
export async function requestDeviceAuthorization(
  dsn: DsnConfig,
  deviceAuthUri: URL,
  transport: LoginTransport,
): Promise<DeviceAuthorization> {
  const request = buildTokenRequest({
    endpoint: { method: 'POST', url: deviceAuthUri },
    format: 'form',
    grant: [],
    scope: dsn.scope,
    tokenParams: dsn.tokenParams,
    clientAuth: clientAuthFor(dsn),
  });
  const raw = await sendTokenRequest(request, {
    dispatcher: transport.dispatcher,
    dsn: dsn.name,
    endpointName: 'the device authorization endpoint (DeviceAuthURI)',
  });
  return parseDeviceAuthorization(raw, {
    dsn: dsn.name,
    endpoint: deviceAuthUri,
    secrets: secretsOf(dsn),
  });
}

/**
 * The device authorization response, or a LoginError that says what the endpoint said and what to
 * change. Google spells verification_uri `verification_url`; both are read.
 */
export function parseDeviceAuthorization(
  res: RawTokenResponse,
  ctx: {
    readonly dsn: string;
    readonly endpoint: URL;
    /** blanked out of anything quoted from the answer */
    readonly secrets: readonly string[];
  },
): DeviceAuthorization {
  const where = `DeviceAuthURI (POST ${ctx.endpoint.origin}${ctx.endpoint.pathname})`;
  let body: Record<string, unknown> | undefined;
  try {
    const json: unknown = JSON.parse(res.body);
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      body = json as Record<string, unknown>;
    }
  } catch {
    body = undefined;
  }
  const text = (name: string): string | undefined => {
    const v = body?.[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const error = text('error');
  if (error !== undefined) {
    const description = text('error_description');
    const said = `${error}${description ? ` ("${description}")` : ''}`;
    throw new LoginError(
      ctx.dsn,
      `${where} answered ${res.status} ${redactSecrets(said, ctx.secrets)}. ${oauthErrorHint(error, res.status)}`,
    );
  }
  const deviceCode = text('device_code');
  const userCode = text('user_code');
  const verificationUri = text('verification_uri') ?? text('verification_url');
  if (res.status < 200 || res.status >= 300 || !deviceCode || !userCode || !verificationUri) {
    throw new LoginError(
      ctx.dsn,
      `${where} answered ${res.status} without a device_code, user_code and verification_uri. ` +
        "Check that DeviceAuthURI is the provider's device authorization endpoint and that the " +
        'client may use the device flow.',
    );
  }
  const complete = text('verification_uri_complete') ?? text('verification_url_complete');
  return {
    deviceCode,
    userCode,
    verificationUri,
    ...(complete === undefined ? {} : { verificationUriComplete: complete }),
    expiresInSeconds: seconds(body?.['expires_in']) ?? DEFAULT_EXPIRES_IN_SECONDS,
    intervalSeconds: seconds(body?.['interval']) ?? DEFAULT_INTERVAL_SECONDS,
  };
}

function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
