import { lookupAuthMethod, type AuthMethod } from '../auth-methods.js';
import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type MethodOptions = Pick<DsnConfig, 'method' | 'effectiveMethod' | 'grantType'>;

/**
 * AuthenticationMethod -> the method actually used -> the grant type the token engine runs
 * (GrantType= overrides the method's own). Undefined when the method is unknown or not supported:
 * nothing else about the DSN can be judged then.
 */
export function resolveMethod(options: OptionReader): MethodOptions | undefined {
  const method = options.value(OPTION.AuthenticationMethod);
  if (options.refused(OPTION.AuthenticationMethod)) return undefined;
  if (method.kind === 'unsupported') {
    options.error(
      OPTION.AuthenticationMethod,
      `AuthenticationMethod=${method.code} (${method.name}) is not supported by tokenshim yet`,
      'use an OAuth2 method (50-56), BearerToken (34), HttpHeader (25), UrlParameter (14), Basic (0) or None (15)',
    );
    return undefined;
  }
  const effectiveMethod = method.code === 24 ? legacyMethod(options) : method;
  const grantType =
    effectiveMethod.kind === 'oauth'
      ? (options.value(OPTION.GrantType) ?? effectiveMethod.grantType)
      : undefined;
  return { method, effectiveMethod, grantType };
}

/**
 * DataDirect's value 24 (OAuth2, legacy): the grant follows from what is set, in this order:
 * RefreshToken, then User and Password, then ClientID and ClientSecret, then a static AccessToken.
 */
function legacyMethod(options: OptionReader): AuthMethod {
  const has = (...names: (keyof typeof OPTION)[]): boolean =>
    names.every((n) => options.text(OPTION[n]) !== undefined);
  const code = has('RefreshToken')
    ? 54
    : has('User', 'Password')
      ? 52
      : has('ClientID', 'ClientSecret')
        ? 53
        : has('AccessToken')
          ? 50
          : 54;
  return lookupAuthMethod(String(code))!;
}
