import type { TokenEndpoint } from '../dsn.js';
import { parseHttpUrl } from './http-url.js';
import type { OptionParser, ParseContext } from './parser.js';

/** An endpoint as written: the verb only when the value names one. */
export interface EndpointText {
  readonly method: TokenEndpoint['method'] | undefined;
  readonly url: URL;
}

/**
 * `POST https://...` or a bare URL. A value that starts with a scheme (`https:`) has no verb, even
 * though `https:` looks like one word.
 */
function parseEndpoint(
  value: string,
  ctx: Pick<ParseContext<unknown>, 'option' | 'error'>,
  example: { readonly what: string; readonly value: string },
): EndpointText | undefined {
  const trimmed = value.trim();
  const m = /^([A-Za-z]+)\s+(\S.*)$/.exec(trimmed);
  const prefixed = m !== null && !/^[a-z][a-z0-9+.-]*:/i.test(trimmed);
  const verb = prefixed ? m[1]!.toUpperCase() : undefined;
  const urlText = prefixed ? m[2]!.trim() : trimmed;
  if (verb !== undefined && verb !== 'GET' && verb !== 'POST') {
    ctx.error(
      `${ctx.option} starts with "${m![1]}", but a token request can only be GET or POST`,
      `write ${ctx.option}=POST https://... (or no prefix for GET)`,
    );
    return undefined;
  }
  const url = parseHttpUrl(urlText);
  if (!url) {
    ctx.error(
      `${ctx.option} "${urlText}" is not an http:// or https:// URL`,
      `write ${example.what} as a full URL, e.g. ${ctx.option}=${example.value}`,
    );
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // undici would not send them as HTTP Basic; the client's id and secret have options of their own
    ctx.error(
      `${ctx.option} carries a user name or password (https://user:****@host), which tokenshim would not send`,
      `remove "user:password@" from ${ctx.option}; put them in ClientID and ClientSecret (ClientCredentialsMode=0 sends them as HTTP Basic)`,
    );
    return undefined;
  }
  return { method: verb, url };
}

/** TokenURI: DataDirect sends GET unless the value starts with a verb (`POST https://...`). */
export const tokenUri: OptionParser<TokenEndpoint, 'string'> = {
  type: 'string',
  parse(value, ctx) {
    const parsed = parseEndpoint(value, ctx, {
      what: 'the token endpoint',
      value: 'POST https://login.example.com/oauth/token',
    });
    return parsed && { method: parsed.method ?? 'GET', url: parsed.url };
  },
};

/**
 * RefreshTokenURI: the verb is its own when it has one, else TokenURI's (the family decides), so
 * `TokenURI=POST https://a/token` with `RefreshTokenURI=https://a/refresh` does not turn the
 * refresh into a GET by surprise.
 */
export const refreshTokenUri: OptionParser<EndpointText, 'string'> = {
  type: 'string',
  parse: (value, ctx) =>
    parseEndpoint(value, ctx, {
      what: 'the refresh endpoint',
      value: 'POST https://login.example.com/oauth/refresh',
    }),
};

/**
 * DeviceAuthURI and RevokeURI: endpoints the specifications only ever POST to (RFC 8628 3.1,
 * RFC 7009 2.1). A `POST ` prefix, written out of habit from TokenURI, is accepted; `GET ` is not.
 */
export function postOnlyUri(example: {
  /** `the device authorization endpoint` */
  readonly what: string;
  /** the clause that says POST */
  readonly spec: string;
  readonly value: string;
}): OptionParser<URL, 'url'> {
  const { what, spec } = example;
  return {
    type: 'url',
    parse(value, ctx) {
      const parsed = parseEndpoint(value, ctx, example);
      if (parsed?.method === 'GET') {
        ctx.error(
          `${ctx.option} starts with GET, but ${what} only takes POST (${spec})`,
          `write ${ctx.option}=https://... (tokenshim POSTs to it)`,
        );
        return undefined;
      }
      return parsed?.url;
    },
  };
}
