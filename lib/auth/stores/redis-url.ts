import { isIP } from 'node:net';

import type { RedisOptions } from 'ioredis';

import { ConfigError } from '../../errors.js';

/** A `TokenStore=redis://…` value, checked and split into what ioredis needs. */
export interface RedisLocation {
  /** host:port, db and user, with any password replaced by `****`: safe to print */
  readonly description: string;
  readonly connection: Pick<
    RedisOptions,
    | 'host'
    | 'port'
    | 'username'
    | 'password'
    | 'db'
    | 'tls'
    | 'sentinels'
    | 'name'
    | 'failoverDetector'
    | 'sentinelReconnectStrategy'
  >;
}

export function isRedisUrl(value: string): boolean {
  // any redis-looking scheme, so a typo (rediss+sentinel://) gets a Redis error, not a file path
  return /^rediss?(\+[a-z]+)?:\/\//i.test(value.trim());
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` (rediss:// for TLS). We pass ioredis explicit
 * options rather than the string because ioredis turns any `?key=value` into a client option.
 */
export function parseRedisUrl(value: string, dsn?: string): RedisLocation {
  const where = dsn === undefined ? 'TokenStore' : `DSN "${dsn}": TokenStore`;
  if (/^redis\+sentinel:\/\//i.test(value.trim())) return parseSentinelUrl(value.trim(), where);
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

/**
 * `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/MASTER[/db]`: ioredis asks the
 * sentinels (default port 26379) where MASTER is and follows failovers. WHATWG URLs cannot hold
 * several hosts, hence a parser of its own. The password is the master's; the sentinels are
 * expected to need none.
 */
function parseSentinelUrl(value: string, where: string): RedisLocation {
  const match =
    /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?#@]*)(?:\/([^/?#]*))?(?:\/([^/?#]*))?\/?([?#].*)?$/i.exec(
      value,
    );
  const userinfo = match?.[1];
  const [rawUser, rawPassword] = userinfo === undefined ? [] : splitOnce(userinfo, ':');
  const describedAuth =
    userinfo === undefined ? '' : `${rawUser ?? ''}${rawPassword === undefined ? '' : ':****'}@`;
  const description = match
    ? `redis+sentinel://${describedAuth}${match[2] ?? ''}/${match[3] ?? ''}${match[4] ? `/${match[4]}` : ''}`
    : 'redis+sentinel://…';
  const fail = (what: string): ConfigError =>
    invalid(`${where} ${description} ${what}`, description);
  if (!match)
    throw fail('is not redis+sentinel://[:password@]host[:port][,host[:port]...]/MASTER[/db]');
  if (match[5]) throw fail('must not carry ?query or #fragment parts');
  const sentinels = (match[2] ?? '').split(',').map((hostPort) => {
    const parsed = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostPort.trim());
    const port = parsed?.[2] === undefined ? 26379 : Number(parsed[2]);
    if (!parsed || port < 1 || port > 65535)
      throw fail(`has a sentinel address "${hostPort}" that is not host[:port]`);
    return { host: (parsed[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
  });
  const name = decodeURIComponent(match[3] ?? '');
  if (name === '') throw fail('names no master: write redis+sentinel://HOST:26379/MASTER_NAME/0');
  const dbText = match[4] ?? '';
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) {
    throw fail(`names database "${dbText}": the part after the master must be a database number`);
  }
  const username =
    rawUser === undefined || rawUser === '' ? undefined : decodeURIComponent(rawUser);
  const password =
    rawPassword === undefined || rawPassword === '' ? undefined : decodeURIComponent(rawPassword);
  return {
    description,
    connection: {
      sentinels,
      name,
      db: dbText === '' ? 0 : Number(dbText),
      // reconnect as soon as the sentinels announce a new master (+switch-master): until then a
      // demoted master may still take writes that its resync throws away
      failoverDetector: true,
      // ioredis retries a lost sentinel once a minute by default, and its timer outlives close()
      sentinelReconnectStrategy: () => 2_000,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
    },
  };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function describeRedisUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = '****';
  copy.search = '';
  copy.hash = '';
  return copy.href.replace(/\/$/, '');
}

function invalid(message: string, store: string | undefined): ConfigError {
  const fix =
    'Write TokenStore=redis://[:password@]host[:port][/db] (rediss:// for TLS), or ' +
    'redis+sentinel://[:password@]host[:port][,host[:port]...]/MASTER[/db].';
  return new ConfigError(`${message}. ${fix}`, [
    { message: store === undefined ? message : `${message} (${store})` },
  ]);
}
