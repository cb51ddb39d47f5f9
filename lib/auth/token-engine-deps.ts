import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { TokenEventListener } from './token-events.js';

/**
 * What the token engine (the credential provider and its token managers) takes from outside:
 * time, the HTTP client for the token endpoint, a logger, an event listener and a jitter source.
 * Tests inject a FakeClock and a fixed `random`.
 */
export interface TokenEngineDeps {
  /** default: the system clock */
  readonly clock?: Clock;
  /** HTTP client for the token endpoint; the provider makes one with the DSN's TLS and proxy options */
  readonly dispatcher?: Dispatcher;
  /** default: silent; the engine logs debug detail only, and reports through `onEvent` */
  readonly logger?: Logger;
  /** every token request, token and failure, for the one place that logs and counts them */
  readonly onEvent?: TokenEventListener;
  /** jitter for retry backoff, in [0, 1); default Math.random */
  readonly random?: () => number;
}
