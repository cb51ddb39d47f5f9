import { OPTIONS, type OPTION } from './catalogue.js';
import type { DsnConfig } from './dsn.js';

/** The catalogue's options of type `secret`, by name. */
export type SecretOption = {
  [N in keyof typeof OPTION]: (typeof OPTION)[N]['type'] extends 'secret' ? N : never;
}[keyof typeof OPTION];

/**
 * Where each secret option's value sits in a resolved DSN. Keyed by the catalogue's secret
 * options, so a new secret option does not compile until it says where its value is.
 */
const SECRET_VALUE: { readonly [N in SecretOption]: (dsn: DsnConfig) => string | undefined } = {
  ClientSecret: (dsn) => dsn.clientSecret,
  RefreshToken: (dsn) => dsn.refreshToken,
  AccessToken: (dsn) => dsn.accessToken,
  OAuthCode: (dsn) => dsn.oauthCode,
  SecurityToken: (dsn) => dsn.securityToken,
  Password: (dsn) => dsn.password,
  JWTCertPassword: (dsn) => dsn.jwtCertPassword,
  ProxyPassword: (dsn) => dsn.outboundProxy?.password,
  ClientCertificatePassword: (dsn) => dsn.clientCertificate?.password,
  AdminKey: (dsn) => dsn.adminKey,
  ClientKey: (dsn) => dsn.clientKey,
};

const SECRET_OPTIONS = OPTIONS.filter((o) => o.type === 'secret').map(
  (o) => o.name as SecretOption,
);

/** The secrets a DSN holds, by option, in catalogue order: for masked display. */
export function secretOptionsOf(
  dsn: DsnConfig,
): { readonly option: SecretOption; readonly value: string }[] {
  const found: { option: SecretOption; value: string }[] = [];
  for (const option of SECRET_OPTIONS) {
    const value = SECRET_VALUE[option](dsn);
    if (value !== undefined && value !== '') found.push({ option, value });
  }
  return found;
}

/** Every secret a DSN holds, for redaction of text that came from outside. */
export function secretsOf(dsn: DsnConfig): string[] {
  return [...secretOptionsOf(dsn).map((s) => s.value), ...(dsn.referencedSecrets ?? [])];
}
