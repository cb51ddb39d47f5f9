import t from 'tap';

import { isRedisUrl, parseRedisUrl } from '../../../lib/auth/stores/redis-url.js';
import { ConfigError } from '../../../lib/errors.js';

t.test('redis://host:port/db gives host, port and database', async (t) => {
  const { connection, description } = parseRedisUrl('redis://cache.internal:6380/2');
  t.same(connection, { host: 'cache.internal', port: 6380, db: 2 });
  t.equal(description, 'redis://cache.internal:6380/2');
});

t.test('port and database default to 6379 and 0', async (t) => {
  t.same(parseRedisUrl('redis://cache').connection, { host: 'cache', port: 6379, db: 0 });
  t.same(parseRedisUrl('redis://cache/').connection, { host: 'cache', port: 6379, db: 0 });
});

t.test('rediss:// turns TLS on with the host as server name', async (t) => {
  const { connection } = parseRedisUrl('rediss://cache.example.com:6380/0');
  t.same(connection.tls, { servername: 'cache.example.com' });
  t.same(parseRedisUrl('rediss://10.0.0.5:6380').connection.tls, {}, 'TLS without SNI for an IP');
});

t.test('password (and ACL user) are decoded and kept out of the description', async (t) => {
  const secret = 'p@ss:w/rd#1';
  const url = `redis://tokenshim:${encodeURIComponent(secret)}@cache:6379/0`;
  const { connection, description } = parseRedisUrl(url);
  t.equal(connection.password, secret);
  t.equal(connection.username, 'tokenshim');
  t.equal(description, 'redis://tokenshim:****@cache:6379/0');
  t.notMatch(description, encodeURIComponent(secret));

  const passwordOnly = parseRedisUrl('redis://:hunter2hunter2@cache');
  t.equal(passwordOnly.connection.password, 'hunter2hunter2');
  t.equal(passwordOnly.connection.username, undefined);
  t.equal(passwordOnly.description, 'redis://:****@cache');
});

t.test('IPv6 hosts lose their brackets', async (t) => {
  t.equal(parseRedisUrl('redis://[::1]:6379').connection.host, '::1');
});

t.test('isRedisUrl tells a Redis TokenStore from a file path', async (t) => {
  t.ok(isRedisUrl('redis://cache'));
  t.ok(isRedisUrl(' REDISS://cache'));
  t.notOk(isRedisUrl('/var/lib/tokenshim/tokens.json'));
  t.notOk(isRedisUrl('C:\\tokens.json'));
});

t.test(
  'bad TokenStore URLs: a ConfigError naming the DSN, the option and the fix, never the password',
  async (t) => {
    const cases: [string, RegExp][] = [
      ['redis://:s3cretpass@', /not a valid URL|names no host/],
      ['http://:s3cretpass@cache:6379', /must start with redis:\/\/ or rediss:\/\//],
      ['redis://:s3cretpass@cache:6379/zero', /database "zero"/],
      ['redis://:s3cretpass@cache:6379/0?password=s3cretpass', /\?query/],
      ['redis://:s3cretpass@cache:99999/0', /not a valid URL/],
    ];
    for (const [i, [value, why]] of cases.entries()) {
      const label = `case ${i + 1} (${why.source})`;
      const err = t.throws(() => parseRedisUrl(value, 'Sales'), label) as unknown;
      t.ok(err instanceof ConfigError, label);
      const message = (err as Error).message;
      t.match(message, why, label);
      t.match(message, /DSN "Sales": TokenStore/, label);
      t.match(message, /TokenStore=redis:\/\//, `${label}: says what to write`);
      t.notMatch(message, 's3cretpass', `${label}: no password`);
      t.notMatch(JSON.stringify((err as ConfigError).problems), 's3cretpass', label);
    }
  },
);

t.test(
  'redis+sentinel:// lists sentinels (default port 26379), the master name and the database',
  async (t) => {
    const url =
      'redis+sentinel://:s3cretpass@10.0.0.1:26380,sentinel-b,[::1]:26381/tokens-master/3';
    const { connection, description } = parseRedisUrl(url);
    t.same(connection.sentinels, [
      { host: '10.0.0.1', port: 26380 },
      { host: 'sentinel-b', port: 26379 },
      { host: '::1', port: 26381 },
    ]);
    t.equal(connection.name, 'tokens-master');
    t.equal(connection.db, 3);
    t.equal(connection.password, 's3cretpass');
    t.equal(connection.failoverDetector, true);
    t.equal(
      description,
      'redis+sentinel://:****@10.0.0.1:26380,sentinel-b,[::1]:26381/tokens-master/3',
    );
    t.ok(isRedisUrl(url));
  },
);

t.test('bad redis+sentinel:// URLs: a ConfigError with the fix, never the password', async (t) => {
  const cases: [string, RegExp][] = [
    ['redis+sentinel://:s3cretpass@sentinel-a', /names no master/],
    ['redis+sentinel://:s3cretpass@sentinel-a:99999/m', /sentinel address "sentinel-a:99999"/],
    ['redis+sentinel://:s3cretpass@sentinel-a/m/zero', /database "zero"/],
    ['redis+sentinel://:s3cretpass@sentinel-a/m?sentinelPassword=x', /\?query/],
    ['rediss+sentinel://:s3cretpass@sentinel-a/m', /must start with redis:\/\/ or rediss:\/\//],
  ];
  for (const [i, [value, why]] of cases.entries()) {
    const label = `sentinel case ${i + 1} (${why.source})`;
    t.ok(isRedisUrl(value), `${label}: recognised as a Redis TokenStore`);
    const err = t.throws(() => parseRedisUrl(value, 'Sales'), label) as unknown;
    t.ok(err instanceof ConfigError, label);
    t.match((err as Error).message, why, label);
    t.match(
      (err as Error).message,
      /redis\+sentinel:\/\/\[:password@\]host/,
      `${label}: says what to write`,
    );
    t.notMatch((err as Error).message, 's3cretpass', `${label}: no password`);
  }
});
