import type { AuthMethod } from '../auth-methods.js';
import { OPTION } from '../catalogue.js';
import type { DsnConfig, TokenPlacement, UpstreamHeader } from '../dsn.js';
import type { DsnModel } from '../dsn-model.js';
import type { OptionReader } from '../option-reader.js';

export type UpstreamHeaderOptions = Pick<DsnConfig, 'upstreamHeaders'>;

/** The header the credential itself goes in, if it goes in one. */
export function credentialHeader(dsn: {
  readonly effectiveMethod: AuthMethod;
  readonly tokenPlacement: TokenPlacement;
  readonly authHeader?: string | undefined;
}): string | undefined {
  const m = dsn.effectiveMethod;
  if (m.code === 0 || m.code === 25) return dsn.authHeader ?? 'Authorization';
  if (m.kind === 'oauth' || m.code === 50 || m.code === 34)
    return dsn.tokenPlacement.kind === 'header' ? dsn.tokenPlacement.name : undefined;
  return undefined;
}

/**
 * Headers every upstream request carries beside the credential:
 * - AuthHeader + SecurityToken, where the credential is an access token (OAuth modes,
 *   AccessToken) or there is none: DataDirect's "custom HTTP header to be used for
 *   authentication, such as those used in tenant ID authentication". Its own example,
 *   `AuthHeader=Authorization`, names the header the access token goes in: the token keeps it,
 *   and the warning says SecurityToken is not sent and how to send it.
 * - the Model file's `#headers`, unless the credential or AuthHeader sets the same header.
 * Nothing configured is dropped without a warning saying so.
 */
export function resolveUpstreamHeaders(
  options: OptionReader,
  dsn: Pick<DsnConfig, 'effectiveMethod' | 'tokenPlacement' | 'authHeader' | 'securityToken'>,
  model: DsnModel | undefined,
): UpstreamHeaderOptions {
  const headers: UpstreamHeader[] = [];
  const credential = credentialHeader(dsn);
  const taken = (name: string): boolean =>
    name.toLowerCase() === credential?.toLowerCase() ||
    headers.some((h) => h.name.toLowerCase() === name.toLowerCase());
  const m = dsn.effectiveMethod;
  const { authHeader, securityToken } = dsn;
  if (authHeader !== undefined && securityToken !== undefined) {
    if (m.code === 34 || m.code === 14) {
      options.warn(
        OPTION.AuthHeader,
        `AuthHeader has no effect with AuthenticationMethod=${m.code} (${m.name}): SecurityToken is the credential itself (${m.code === 34 ? 'Authorization: Bearer' : 'the AuthParam query parameter'})`,
        'remove AuthHeader, or use AuthenticationMethod=25 to send SecurityToken in the header it names',
      );
    } else if (m.kind === 'oauth' || m.code === 50 || m.code === 15) {
      if (taken(authHeader)) {
        options.warn(
          OPTION.AuthHeader,
          `AuthHeader=${authHeader} names the header the access token goes in: the token keeps it, and SecurityToken is not sent`,
          `set AuthHeader to the header the API wants SecurityToken in (such as X-Tenant-ID), or remove AuthHeader and SecurityToken; for a fixed credential in ${authHeader} instead of a token, use AuthenticationMethod=25`,
        );
      } else {
        headers.push({ name: authHeader, value: securityToken, from: 'SecurityToken' });
      }
    }
  }
  for (const [name, value] of model?.file?.headers ?? []) {
    if (taken(name)) {
      options.warn(
        OPTION.RestConfigFile,
        `the Model file's #headers set ${name}, which ${name.toLowerCase() === credential?.toLowerCase() ? 'carries the credential' : 'AuthHeader sets'}: its value there is not sent`,
        `remove ${name} from the Model file's #headers`,
      );
      continue;
    }
    headers.push({ name, value, from: 'Model file #headers' });
  }
  return { upstreamHeaders: headers };
}
