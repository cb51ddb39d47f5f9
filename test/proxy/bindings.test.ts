import t from 'tap';
import { Agent } from 'undici';
import type { DsnConfig } from '../../lib/config/dsn.js';
import { DsnBindings, reloadDiff } from '../../lib/proxy/bindings.js';
import { DsnBinding } from '../../lib/proxy/dsn-binding.js';
import { RequestActivity } from '../../lib/proxy/request-activity.js';
import { RouteTable } from '../../lib/proxy/routing/route-table.js';
import { silentLogger } from '../../lib/log/logger.js';
import { makeDsn } from '../fixtures/make-dsn.js';
import { StubProvider } from '../fixtures/stub-provider.js';

const dispatcher = new Agent();
t.teardown(() => dispatcher.close());
const bind = (dsn: DsnConfig): DsnBinding => new DsnBinding(dsn, new StubProvider(dsn), dispatcher);
const upstream = new URL('http://127.0.0.1:9');

t.test('reloadDiff: added, removed, changed and unchanged, and what to retire', async (t) => {
  const kept = bind(makeDsn({ name: 'kept', upstream }));
  const edited = bind(makeDsn({ name: 'edited', upstream }));
  const renamed = bind(makeDsn({ name: 'Crm', upstream }));
  const gone = bind(makeDsn({ name: 'gone', upstream }));
  const old = new RouteTable([kept, edited, renamed, gone]);
  const editedAgain = bind(makeDsn({ name: 'edited', upstream, scope: 'more' }));
  const lowerCase = bind(makeDsn({ name: 'crm', upstream }));
  const fresh = bind(makeDsn({ name: 'fresh', upstream }));

  const { result, retired } = reloadDiff(old, [kept, editedAgain, lowerCase, fresh]);
  t.same(result, {
    added: ['fresh'],
    removed: ['gone'],
    changed: ['edited', 'crm'],
    unchanged: ['kept'],
  });
  t.same(
    retired.map((b) => b.dsn.name),
    ['edited', 'Crm', 'gone'],
    'a name that only changed case is a change, not a removal; its old binding retires',
  );
});

t.test('DsnBindings.bindAll keeps the binding of an unchanged DSN and its provider', async (t) => {
  const made: string[] = [];
  const bindings = new DsnBindings({
    createProvider: (dsn) => {
      made.push(dsn.name);
      return new StubProvider(dsn);
    },
    logger: silentLogger,
    env: {},
    activity: new RequestActivity(),
    selfPort: () => 8790,
  });
  const a = makeDsn({ name: 'a', upstream });
  const first = await bindings.bindAll([a], undefined);
  const again = await bindings.bindAll(
    [a, makeDsn({ name: 'b', upstream })],
    new RouteTable(first),
  );
  t.equal(again[0], first[0], 'the same binding, so its token survives');
  t.same(made, ['a', 'b']);
  await Promise.all(again.map((b) => b.retire()));
});

t.test('DsnBindings.bindAll: a provider that fails leaves no binding open', async (t) => {
  const providers: StubProvider[] = [];
  const bindings = new DsnBindings({
    createProvider: (dsn) => {
      if (dsn.name === 'bad') throw new Error('no provider for you');
      const p = new StubProvider(dsn);
      providers.push(p);
      return p;
    },
    logger: silentLogger,
    env: {},
    activity: new RequestActivity(),
    selfPort: () => 8790,
  });
  await t.rejects(
    bindings.bindAll(
      [makeDsn({ name: 'ok', upstream }), makeDsn({ name: 'bad', upstream })],
      undefined,
    ),
    /no provider for you/,
  );
  t.equal(providers.length, 1);
  t.ok(providers[0]!.closed, 'the binding made before the failure was closed');
});
