import type { DsnConfig, TokenEndpoint } from '../../config/dsn.js';
import { ConfigError } from '../../errors.js';

/** The methods whose tokens come from a person's login: a refresh token is what they live on. */
export const LOGIN_METHODS: ReadonlySet<number> = new Set([51, 54, 56]);

/** How a person logs in: a browser with the authorization code (AuthURI) or a device code. */
export type LoginEndpoint = 'AuthURI' | 'DeviceAuthURI';

const WHAT: Readonly<Record<LoginEndpoint, string>> = {
  AuthURI: "AuthURI (the provider's authorization endpoint)",
  DeviceAuthURI: "DeviceAuthURI (the provider's device authorization endpoint, RFC 8628)",
};

/**
 * What a login needs from the DSN: a method that lives on a refresh token, the endpoint the person
 * starts at, TokenURI and ClientID. Every gap is a configuration error naming the option.
 */
export function checkLoginDsn(
  dsn: DsnConfig,
  start: LoginEndpoint,
  command = 'tokenshim login',
): { startUri: URL; tokenEndpoint: TokenEndpoint } {
  requireLoginMethod(dsn, command);
  const startUri = start === 'AuthURI' ? dsn.authUri : dsn.deviceAuthUri;
  const missing = [
    startUri ? undefined : WHAT[start],
    dsn.tokenEndpoint ? undefined : 'TokenURI (the token endpoint; "POST https://..." for POST)',
    dsn.clientId ? undefined : 'ClientID',
  ].filter((x): x is string => x !== undefined);
  if (missing.length > 0 || !startUri || !dsn.tokenEndpoint) {
    throw new ConfigError(
      `DSN "${dsn.name}": ${command} needs ${missing.join(', ')}; add it to the DSN.`,
    );
  }
  return { startUri, tokenEndpoint: dsn.tokenEndpoint };
}

/** Login and logout are for DSNs that live on a refresh token (51, 54, 56). */
export function requireLoginMethod(dsn: DsnConfig, command: string): void {
  const m = dsn.effectiveMethod;
  if (!LOGIN_METHODS.has(m.code)) {
    throw new ConfigError(
      `DSN "${dsn.name}": ${command} is for DSNs that live on a refresh token (AuthenticationMethod ` +
        `51, 54 or 56); this one uses ${m.code} (${m.name}), which gets its tokens without a person's login.`,
    );
  }
}
