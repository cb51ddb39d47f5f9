import { parsePagingOption, type PagingSettings } from '../paging-option.js';
import type { OptionParser } from './parser.js';

/** `Paging=next-url;records=value;next=@odata.nextLink`: the joined-pages default of a DSN. */
export const pagingOption: OptionParser<PagingSettings, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const parsed = parsePagingOption(value);
    for (const problem of parsed.problems)
      ctx.error(problem, 'e.g. Paging=next-url;records=value;next=@odata.nextLink');
    return parsed.problems.length === 0 ? parsed.settings : undefined;
  },
};
