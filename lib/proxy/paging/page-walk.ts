import type { ServerResponse } from 'node:http';
import { PageFailedError, type TokenshimError } from '../../errors.js';
import { responseHeaderValues } from '../../http/raw-headers.js';
import type { Logger } from '../../log/logger.js';
import { scrubSecretsInText } from '../../log/scrub-text.js';
import type { BodySink } from '../forward/body-sink.js';
import { DecodedBody, decodableCoding } from '../forward/content-decoding.js';
import { JsonUrlRewriter } from '../forward/json-url-rewrite.js';
import type { LinkRewrite } from '../forward/link-rewrite.js';
import { AnswerWriter } from './answer-writer.js';
import { nextLinkTarget, resolveNextUrl, withQueryParam, type PageAddress } from './next-page.js';
import { PageFormatError, PageScanner, type PageSummary } from './page-scanner.js';
import type { PagingPlan } from './paging-request.js';

export type { PageAddress } from './next-page.js';

/** What sends a walk's requests: the Exchange, with its credential, replay and retry rules. */
export interface PageSource {
  /** Sends the request for one page; every page after the first gets a fresh credential. */
  fetchPage(page: PageAddress): void;
}

export interface PageWalkContext {
  readonly plan: PagingPlan;
  /** the request as the client sent it, `tokenshim.*` parameters removed */
  readonly first: PageAddress;
  readonly res: ServerResponse;
  readonly log: Logger;
  readonly dsn: string;
  /** where a next link may lead: the DSN's HostName and AllowedHosts origins */
  readonly credentialOrigins: readonly string[];
  /** URLs inside the records point back at the proxy (gateway and dedicated routes) */
  readonly rewrite?: LinkRewrite;
}

/** what is kept of a refused page's body for the error: enough to read the API's complaint */
const EXCERPT_BYTES = 300;

/**
 * Joined pages: fetches page after page through the PageSource and streams every page's records
 * into one answer as they arrive. The walk ends when a page has no next link or cursor, or (offset,
 * page) an empty page or one shorter than tokenshim.size. It never ends quietly on a failure: a
 * page that fails before the answer began is a problem+json naming it; after that the answer is
 * cut (the array left open, the connection reset) and the log says which page failed and why.
 */
export class PageWalk {
  readonly #c: PageWalkContext;
  readonly #source: PageSource;
  readonly #writer: AnswerWriter;
  readonly #seen = new Set<string>();
  #current: PageAddress;
  #page = 0;
  /** the offset or page number of the current page */
  #position: number;
  #over = false;

  constructor(c: PageWalkContext, source: PageSource) {
    this.#c = c;
    this.#source = source;
    this.#writer = new AnswerWriter(
      c.res,
      c.plan.format,
      c.rewrite === undefined ? undefined : new JsonUrlRewriter(c.rewrite),
    );
    this.#position = c.plan.start;
    const { mode, param } = c.plan;
    this.#current =
      (mode === 'offset' || mode === 'page') && param !== undefined
        ? { ...c.first, path: withQueryParam(c.first.path, param, String(c.plan.start)) }
        : c.first;
  }

  start(): void {
    this.#fetch(this.#current);
  }

  /**
   * The final answer to the current page's request (after any replay): where its body goes.
   * `resume` restarts the upstream after backpressure.
   */
  head(status: number, rawHeaders: readonly Buffer[], resume: () => void): BodySink {
    if (status === 204) return this.#bodyless(() => this.#pageDone(NO_RECORDS, undefined));
    if (status < 200 || status > 299) return this.#refused(status);
    const encoding = responseHeaderValues(rawHeaders, 'content-encoding');
    const coding = decodableCoding(encoding[0]);
    if (coding === undefined) {
      return this.#bodyless(() =>
        this.#fail(
          `it came in Content-Encoding ${encoding.join(', ')}, which tokenshim cannot decode`,
        ),
      );
    }
    const link =
      this.#c.plan.mode === 'link'
        ? nextLinkTarget(responseHeaderValues(rawHeaders, 'link'))
        : undefined;
    const next =
      this.#c.plan.mode === 'next-url' || this.#c.plan.mode === 'cursor'
        ? this.#c.plan.next
        : undefined;
    const scanner = new PageScanner(this.#c.plan.records, next, this.#writer);
    const page = this.#page;
    const live = (): boolean => !this.#over && this.#page === page;
    return new DecodedBody(
      coding,
      {
        push: (bytes) => {
          if (!live()) return;
          try {
            scanner.push(bytes);
          } catch (e) {
            return this.#fail(formatProblem(e, this.#c.plan));
          }
          this.#writer.flush();
        },
        end: () => {
          if (!live()) return;
          let summary: PageSummary;
          try {
            summary = scanner.end();
          } catch (e) {
            return this.#fail(formatProblem(e, this.#c.plan));
          }
          this.#writer.flush();
          this.#pageDone(summary, link);
        },
        fail: () => {
          if (live()) this.#fail('it does not decode as its Content-Encoding says');
        },
      },
      this.#c.res,
      resume,
    );
  }

  /** The current page's request failed (its credential, the upstream connection). */
  failed(error: TokenshimError): void {
    this.#fail(error.message, error.status, error.code);
  }

  #fetch(address: PageAddress): void {
    this.#page++;
    this.#current = address;
    this.#seen.add(address.origin + address.path);
    this.#source.fetchPage(address);
  }

  #pageDone(summary: PageSummary, link: string | undefined): void {
    const { plan } = this.#c;
    if (!summary.recordsFound && this.#page === 1 && plan.records !== '$') {
      const keys = summary.topKeys.length === 0 ? 'none' : summary.topKeys.join(', ');
      return this.#fail(
        `it has no "${plan.records}" (tokenshim.records); its top-level keys are ${keys}`,
      );
    }
    const next = this.#next(summary, link);
    if (next === undefined) {
      this.#over = true;
      this.#writer.finish();
      this.#c.log.debug(
        { dsn: this.#c.dsn, pages: this.#page, records: this.#writer.records },
        'joined pages: the answer is complete',
      );
      return;
    }
    if ('why' in next) return this.#fail(next.why);
    if (this.#page >= plan.maxPages) {
      return this.#fail(
        `the API has more than ${plan.maxPages} pages (tokenshim.max-pages); raise it to fetch them all`,
      );
    }
    if (this.#seen.has(next.address.origin + next.address.path))
      return this.#fail('its next link names an earlier page again: the API would loop');
    this.#fetch(next.address);
  }

  /** The next page's address; undefined when this page was the last. */
  #next(
    summary: PageSummary,
    link: string | undefined,
  ): { address: PageAddress } | { why: string } | undefined {
    const { plan } = this.#c;
    switch (plan.mode) {
      case 'next-url':
      case 'link': {
        const target = plan.mode === 'link' ? link : summary.next;
        if (target === undefined || target === '') return undefined;
        return resolveNextUrl(target, this.#current, this.#c.credentialOrigins);
      }
      case 'cursor':
        if (summary.next === undefined) return undefined;
        return { address: this.#withParam(summary.next) };
      case 'offset':
      case 'page': {
        const count = summary.records;
        if (count === 0 || (plan.size !== undefined && count < plan.size)) return undefined;
        if (plan.size !== undefined && count > plan.size) {
          return {
            why: `it has ${count} records, more than tokenshim.size=${plan.size}: set tokenshim.size to the page size the API uses (or leave it out)`,
          };
        }
        this.#position += plan.mode === 'page' ? 1 : (plan.size ?? count);
        return { address: this.#withParam(String(this.#position)) };
      }
    }
  }

  #withParam(value: string): PageAddress {
    const first = this.#c.first;
    return { ...first, path: withQueryParam(first.path, this.#c.plan.param!, value) };
  }

  /** A refused page: its status, and the start of what the API said about it. */
  #refused(status: number): BodySink {
    const kept: Buffer[] = [];
    let size = 0;
    return {
      write: (chunk) => {
        if (size < EXCERPT_BYTES) kept.push(chunk.subarray(0, EXCERPT_BYTES - size));
        size += chunk.length;
        return true;
      },
      end: () => {
        const said = Buffer.concat(kept).toString('utf8').replace(/\s+/g, ' ').trim();
        this.#fail(
          `the API answered ${status}${said === '' ? '' : `: ${said}${size > EXCERPT_BYTES ? '...' : ''}`}`,
          status >= 400 ? status : 502,
        );
      },
      abort: () => undefined,
    };
  }

  #bodyless(then: () => void): BodySink {
    return { write: () => true, end: then, abort: () => undefined };
  }

  #fail(why: string, status = 502, causeCode?: string): void {
    if (this.#over) return;
    this.#over = true;
    const page = this.#page;
    const said = scrubSecretsInText(why);
    const path = this.#current.path.split('?')[0];
    this.#c.log.warn(
      { dsn: this.#c.dsn, page, path, why: said, records: this.#writer.records },
      this.#writer.started
        ? `joined pages: page ${page} failed after the answer began; it was cut short (array left open, connection reset)`
        : `joined pages: page ${page} failed before the answer began`,
    );
    this.#writer.fail(
      new PageFailedError({
        dsn: this.#c.dsn,
        page,
        why: said,
        status,
        ...(causeCode ? { causeCode } : {}),
      }),
    );
  }
}

const NO_RECORDS: PageSummary = { records: 0, recordsFound: true, next: undefined, topKeys: [] };

function formatProblem(e: unknown, plan: PagingPlan): string {
  if (!(e instanceof PageFormatError)) throw e;
  return plan.records === '$' && /records path names an object/.test(e.message)
    ? 'it is a JSON object, not an array: set tokenshim.records to the key of its records array'
    : `${e.message} (tokenshim.records=${plan.records}${plan.next === undefined ? '' : `, tokenshim.next=${plan.next}`})`;
}
