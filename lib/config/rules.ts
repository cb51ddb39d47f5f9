import { OPTIONS, OPTION } from './catalogue.js';
import type { DsnConfig } from './dsn.js';
import type { OptionReader } from './option-reader.js';
import { tokenParamsNeedUser } from './values/token-params.js';

/**
 * A rule that relates options to each other, run on the resolved DSN once every option has been
 * read. It reports through the reader; it never changes the DSN.
 */
export type CrossFieldRule = (dsn: DsnConfig, options: OptionReader) => void;

/** Each option the effective method needs (the catalogue's `requiredBy`) is set. */
export function requiredByMethod(dsn: DsnConfig, options: OptionReader): void {
  const m = dsn.effectiveMethod;
  for (const o of OPTIONS) {
    if (o.requiredBy?.includes(m.code) && options.text(o) === undefined) {
      options.error(
        undefined,
        `${o.name} is missing; AuthenticationMethod=${m.code} (${m.name}) needs it`,
        `add ${o.name}=... to [${dsn.name}]`,
      );
    }
  }
}

/** A refresh-token DSN may start without one: `tokenshim login` can put one in the store. */
export function refreshTokenMissing(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.effectiveMethod.code !== 54 || options.text(OPTION.RefreshToken) !== undefined) return;
  options.warn(
    undefined,
    'RefreshToken is not set: tokenshim will use one from the token store if `tokenshim login` saved one',
    `run \`tokenshim login ${dsn.name}\`, or add RefreshToken=... to [${dsn.name}]`,
  );
}

/** An authorization-code DSN needs a code to exchange, or a refresh token from an earlier one. */
export function oauthCodeMissing(dsn: DsnConfig, options: OptionReader): void {
  if (
    dsn.effectiveMethod.code !== 51 ||
    options.text(OPTION.OAuthCode) !== undefined ||
    options.text(OPTION.RefreshToken) !== undefined
  ) {
    return;
  }
  options.warn(
    undefined,
    'neither OAuthCode nor RefreshToken is set',
    `run \`tokenshim login ${dsn.name}\`, or add OAuthCode=... to [${dsn.name}]`,
  );
}

/** In OAuth modes AuthHeader names an extra header whose value is SecurityToken (tenant ids). */
export function authHeaderNeedsSecurityToken(dsn: DsnConfig, options: OptionReader): void {
  if (
    dsn.method.kind !== 'oauth' ||
    options.text(OPTION.AuthHeader) === undefined ||
    options.text(OPTION.SecurityToken) !== undefined
  ) {
    return;
  }
  options.error(
    OPTION.AuthHeader,
    'AuthHeader is set but SecurityToken is empty: in OAuth modes they add one extra header together',
    'set SecurityToken=..., or remove AuthHeader',
  );
}

/** TokenScheme prefixes a header value; a query parameter carries the bare token. */
export function tokenSchemeNeedsHeader(dsn: DsnConfig, options: OptionReader): void {
  if (dsn.tokenScheme === undefined || dsn.tokenPlacement.kind !== 'query') return;
  options.warn(
    OPTION.TokenScheme,
    'TokenScheme has no effect when TokenPlacement puts the token in the query string',
    'remove TokenScheme, or place the token in a header',
  );
}

/** The token route hands out live tokens: never without a key. */
export function exposeTokensNeedsAdminKey(dsn: DsnConfig, options: OptionReader): void {
  if (!dsn.exposeTokens || dsn.adminKey !== undefined) return;
  options.error(
    OPTION.ExposeTokens,
    'ExposeTokens=1 needs an AdminKey',
    'set AdminKey to a long random string',
  );
}

/** Prefetch keeps one token fresh: static credentials have none, per-user DSNs one per user. */
export function prefetchNeedsOneToken(dsn: DsnConfig, options: OptionReader): void {
  if (!dsn.prefetch) return;
  const why =
    dsn.effectiveMethod.kind !== 'oauth'
      ? `AuthenticationMethod=${dsn.effectiveMethod.code} has no token to fetch`
      : dsn.tokenParams !== undefined && tokenParamsNeedUser(dsn.tokenParams)
        ? 'the DSN issues one token per user (TokenParams with {user}), fetched when a user first asks'
        : undefined;
  if (why === undefined) return;
  options.warn(OPTION.Prefetch, `Prefetch=1 has no effect: ${why}`, 'remove Prefetch');
}

export const CROSS_FIELD_RULES: readonly CrossFieldRule[] = Object.freeze([
  requiredByMethod,
  refreshTokenMissing,
  oauthCodeMissing,
  authHeaderNeedsSecurityToken,
  tokenSchemeNeedsHeader,
  exposeTokensNeedsAdminKey,
  prefetchNeedsOneToken,
]);
