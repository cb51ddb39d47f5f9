import type { Clock } from '../../clock.js';
import type { DsnConfig, TokenEndpoint } from '../../config/dsn.js';

/** What a grant may draw on when it builds one token request. */
export interface GrantInput {
  readonly dsn: DsnConfig;
  readonly clock: Clock;
}

/** One OAuth grant: the grant-specific parameters of a token request (RFC 6749 4.x, 6; RFC 7523). */
export interface Grant {
  /** the grant_type value, for logs and events */
  readonly grantType: string;
  /** the parameters that identify the grant, grant_type first; client auth and scope come later */
  params(input: GrantInput): Promise<[string, string][]>;
  /** where this grant's token request goes, when not TokenURI */
  endpoint?(dsn: DsnConfig): TokenEndpoint | undefined;
}
