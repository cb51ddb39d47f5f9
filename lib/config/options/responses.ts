import { OPTION } from '../catalogue.js';
import type { DsnConfig } from '../dsn.js';
import type { OptionReader } from '../option-reader.js';

export type ResponseOptions = Pick<DsnConfig, 'rewriteBodyUrls' | 'paging'>;

/** What tokenshim does with the upstream's answers: URLs inside JSON bodies, joined pages. */
export function resolveResponses(options: OptionReader): ResponseOptions {
  return {
    rewriteBodyUrls: options.value(OPTION.RewriteBodyUrls),
    paging: options.value(OPTION.Paging),
  };
}
