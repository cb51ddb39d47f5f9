import t from 'tap';
import { lookupOption } from '../../lib/config/catalogue.js';
import { DATADIRECT_OPTIONS, lookupDataDirectOption } from '../../lib/config/datadirect-options.js';

t.test('each DataDirect-only option says what DataDirect uses it for, in one line', async (t) => {
  const names = new Set<string>();
  for (const o of DATADIRECT_OPTIONS) {
    t.notOk(names.has(o.name.toLowerCase()), `${o.name} once`);
    names.add(o.name.toLowerCase());
    t.match(o.purpose, /^[a-z].{10,}[^.]$/, `${o.name}: a lower-case line without a final period`);
    t.notMatch(o.purpose, /\n/);
  }
  for (const name of ['CreateMap', 'SchemaMap', 'WSTimeout', 'IANAAppCodePage', 'LogoffURI']) {
    t.ok(lookupDataDirectOption(name), name);
  }
  t.equal(lookupDataDirectOption(' wstimeout ')?.name, 'WSTimeout', 'any case, like every key');
  t.equal(lookupDataDirectOption('ClientSecret'), undefined);
  t.equal(
    lookupDataDirectOption('JWTCertStore'),
    undefined,
    'tokenshim reads it: a catalogue entry',
  );
});

t.test('no DataDirect-only option is also one tokenshim reads (facts written once)', async (t) => {
  for (const o of DATADIRECT_OPTIONS) {
    t.equal(lookupOption(o.name), undefined, `${o.name} is not in the catalogue`);
  }
});
