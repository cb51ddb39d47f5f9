import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type ResponseOptions = Pick<
  DsnConfig,
  'rewriteBodyUrls' | 'paging' | 'retryOnStatus' | 'maxRetryWaitSeconds'
>;

/**
 * What tokenshim does with the upstream's answers: URLs inside JSON bodies, joined pages, and
 * answers that say "later".
 */
export function resolveResponses(options: OptionReader): ResponseOptions {
  return {
    rewriteBodyUrls: options.value(OPTION.RewriteBodyUrls),
    paging: options.value(OPTION.Paging),
    retryOnStatus: options.value(OPTION.RetryOnStatus),
    maxRetryWaitSeconds: options.value(OPTION.MaxRetryWait),
  };
}
