import { isIP } from 'node:net';

import type { RedisOptions } from 'ioredis';

import { ConfigError } from '../../errors.js';

/** A `TokenStore=redis://…` value, checked and split into what ioredis needs. */
export interface RedisLocation {
  /** host:port, db and user, with any password replaced by `****`: safe to print */
  readonly description: string;
  readonly connection: Pick<RedisOptions, 'host' | 'port' | 'username' | 'password' | 'db' | 'tls'>;
}

export function isRedisUrl(value: string): boolean {
  return /^rediss?:\/\//i.test(value.trim());
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` (rediss:// for TLS). We pass ioredis explicit
 * options rather than the string because ioredis turns any `?key=value` into a client option.
 */
export function parseRedisUrl(value: string, dsn?: string): RedisLocation {
  const where = dsn === undefined ? 'TokenStore' : `DSN "${dsn}": TokenStore`;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid(`${where} is not a valid URL`, undefined);
  }
  const description = describeRedisUrl(url);
  const fail = (what: string): ConfigError =>
    invalid(`${where} ${description} ${what}`, description);

  const scheme = url.protocol.toLowerCase();
  if (scheme !== 'redis:' && scheme !== 'rediss:') {
    throw fail('must start with redis:// or rediss:// (TLS)');
  }
  if (url.hostname === '') throw fail('names no host: write redis://HOST:6379/0');
  if (url.search !== '' || url.hash !== '') {
    throw fail(
      'must not carry ?query or #fragment parts: only redis://[:password@]host[:port][/db]',
    );
  }
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) {
    throw fail(`names database "${dbText}": the path must be a database number such as /0`);
  }
  // WHATWG URL keeps IPv6 brackets in hostname; the socket wants them gone
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  return {
    description,
    connection: {
      host,
      port: url.port === '' ? 6379 : Number(url.port),
      db: dbText === '' ? 0 : Number(dbText),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      // SNI carries host names only (RFC 6066 3); node warns when given an IP
      ...(scheme === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
    },
  };
}

function describeRedisUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = '****';
  copy.search = '';
  copy.hash = '';
  return copy.href.replace(/\/$/, '');
}

function invalid(message: string, store: string | undefined): ConfigError {
  const fix = 'Write TokenStore=redis://[:password@]host[:port][/db], or rediss:// for TLS.';
  return new ConfigError(`${message}. ${fix}`, [
    { message: store === undefined ? message : `${message} (${store})` },
  ]);
}
