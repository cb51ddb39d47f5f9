import type { Clock } from '../../clock.js';
import type { DsnConfig } from '../../config/dsn.js';
import { CODES, LoginError, TokenEndpointError } from '../../errors.js';
import type { TokenStore } from '../stores/token-store.js';
import type { TokenSet } from '../token-endpoint.js';
import { requestDeviceAuthorization, type DeviceAuthorization } from './device-authorization.js';
import { checkLoginDsn } from './login-dsn.js';
import { saveLogin, type LoginResult } from './login-result.js';
import { describeSeconds } from './login-timeout.js';
import {
  requestLoginToken,
  withLoginTransport,
  type LoginTransport,
  type LoginTransportDeps,
} from './login-token-request.js';

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 3.5: each slow_down adds 5 seconds to the polling interval, for good. */
const SLOW_DOWN_MS = 5_000;
/** the longest wait between polls after connection failures (3.5: back off, then retry) */
const MAX_INTERVAL_MS = 60_000;

/** What the person needs to see to log in elsewhere. */
export type DeviceCodePrompt = Omit<DeviceAuthorization, 'deviceCode' | 'intervalSeconds'>;

export interface DeviceLoginDeps extends LoginTransportDeps {
  /** where the refresh token goes (the DSN's TokenStore) */
  readonly store: TokenStore;
  /** gives up sooner than the device code expires; default: when it expires */
  readonly timeoutMs?: number;
  /** told where to go and what code to enter, before polling starts */
  readonly showCode: (prompt: DeviceCodePrompt) => void;
  /** a poll could not reach the token endpoint; polling goes on, less often */
  readonly onPollFailed?: (message: string, nextPollInMs: number) => void;
}

/**
 * `tokenshim login --device`: the device authorization grant (RFC 8628). The person opens the
 * verification page on any device and enters the code; tokenshim polls TokenURI meanwhile,
 * honouring `interval`, `slow_down` and `authorization_pending`, and stops at `access_denied`,
 * `expired_token` or when the code expires. The refresh token is stored as the browser login
 * stores it.
 */
export async function loginWithDevice(dsn: DsnConfig, deps: DeviceLoginDeps): Promise<LoginResult> {
  const { startUri, tokenEndpoint } = checkLoginDsn(
    dsn,
    'DeviceAuthURI',
    'tokenshim login --device',
  );
  return withLoginTransport(dsn, deps, async (transport) => {
    const authorization = await requestDeviceAuthorization(dsn, startUri, transport);
    const { deviceCode: _secret, intervalSeconds: _interval, ...prompt } = authorization;
    deps.showCode(prompt);
    const tokens = await poll(dsn, deps, authorization, transport, () =>
      requestLoginToken(
        dsn,
        tokenEndpoint,
        [
          ['grant_type', DEVICE_CODE_GRANT_TYPE],
          ['device_code', authorization.deviceCode],
        ],
        transport,
        [authorization.deviceCode],
      ),
    );
    return saveLogin(dsn, deps.store, tokens, transport.clock);
  });
}

async function poll(
  dsn: DsnConfig,
  deps: DeviceLoginDeps,
  authorization: DeviceAuthorization,
  transport: LoginTransport,
  redeem: () => Promise<TokenSet>,
): Promise<TokenSet> {
  const { clock } = transport;
  const expiresAt = clock.now() + authorization.expiresInSeconds * 1000;
  const giveUpAt = Math.min(expiresAt, clock.now() + (deps.timeoutMs ?? Infinity));
  let intervalMs = authorization.intervalSeconds * 1000;
  for (;;) {
    // 3.2: the interval is the least time between requests, the first one included
    await sleep(clock, Math.min(intervalMs, Math.max(0, giveUpAt - clock.now())));
    if (clock.now() >= giveUpAt)
      throw timedOut(dsn.name, giveUpAt < expiresAt, deps, authorization);
    try {
      return await redeem();
    } catch (e) {
      if (!(e instanceof TokenEndpointError)) throw e;
      switch (e.error) {
        case 'authorization_pending':
          continue;
        case 'slow_down':
          intervalMs += SLOW_DOWN_MS;
          continue;
        // authorization_declined: Microsoft's word for access_denied (AADSTS70000)
        case 'access_denied':
        case 'authorization_declined':
          throw new LoginError(
            dsn.name,
            'the login was declined at the verification page. Run tokenshim login --device again ' +
              'and approve the access request.',
          );
        case 'expired_token':
          throw timedOut(dsn.name, false, deps, authorization);
        default:
          if (transient(e)) {
            // 3.5: a connection failure (or the server's own trouble) slows the polling down
            intervalMs = Math.min(Math.max(intervalMs * 2, e.retryAfterMs ?? 0), MAX_INTERVAL_MS);
            deps.onPollFailed?.(e.message, intervalMs);
            continue;
          }
          throw new LoginError(dsn.name, e.message.replace(/^DSN "[^"]*": /, ''), { cause: e });
      }
    }
  }
}

/** No answer, a 5xx or a 429: worth polling again, later. */
function transient(e: TokenEndpointError): boolean {
  return e.httpStatus === undefined || e.httpStatus >= 500 || e.httpStatus === 429;
}

function timedOut(
  dsn: string,
  byTimeout: boolean,
  deps: DeviceLoginDeps,
  authorization: DeviceAuthorization,
): LoginError {
  const waited = byTimeout
    ? `${describeSeconds((deps.timeoutMs ?? 0) / 1000)} (--timeout)`
    : `the ${describeSeconds(authorization.expiresInSeconds)} the device code was valid`;
  return new LoginError(
    dsn,
    `no login was finished within ${waited}. Run tokenshim login --device again and enter the new code at ${authorization.verificationUri}.`,
    { code: CODES.LOGIN_TIMEOUT },
  );
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}
