import t from 'tap';
import { accessLineWriter, accessRecord, type AccessFields } from '../../lib/log/access-line.js';
import { capturingLogger } from '../fixtures/capture-log.js';

const CASES: readonly AccessFields[] = [
  {
    dsn: 'crm',
    method: 'GET',
    path: '/crm/accounts?email&page',
    status: 200,
    durationMs: 3.4,
    upstreamMs: 2.9,
    refreshed: false,
    replayed: false,
    retries: 0,
  },
  {
    dsn: 'erp',
    method: 'POST',
    path: '/erp/o"d\\e\u0001r\u2028s/é',
    status: 502,
    durationMs: 0.1,
    upstreamMs: undefined,
    refreshed: true,
    replayed: false,
    retries: 0,
  },
  {
    dsn: 'crm',
    method: 'PUT',
    path: '/crm/x',
    status: 200,
    durationMs: 120,
    upstreamMs: 60.5,
    refreshed: true,
    replayed: true,
    retries: 2,
  },
  {
    dsn: 'we"ird\\dsn',
    method: 'PATCH',
    path: '/we"ird/a\\b',
    status: 204,
    durationMs: 0.4,
    upstreamMs: 0.3,
    refreshed: false,
    replayed: false,
    retries: 0,
  },
  {
    dsn: 'crm',
    method: 'GET',
    path: `/crm/${'long/'.repeat(30)}"quoted"`,
    status: 200,
    durationMs: 1,
    upstreamMs: 1,
    refreshed: false,
    replayed: false,
    retries: 0,
  },
  {
    dsn: 'crm',
    method: 'GET',
    path: '/crm/slow',
    status: 0,
    durationMs: 9000,
    upstreamMs: undefined,
    refreshed: false,
    replayed: false,
    retries: 0,
  },
];

t.test(
  'the access line is the line pino writes for the same fields, byte for byte but the time',
  async (t) => {
    const fast = capturingLogger();
    const general = capturingLogger();
    const write = accessLineWriter(fast.log.child({ component: 'access' }));
    if (write === undefined) throw new Error('info is on: a writer was expected');
    const child = general.log.child({ component: 'access' });
    for (const f of CASES) {
      write(f);
      child.info(accessRecord(f), f.status === 0 ? 'request abandoned by the client' : 'request');
    }
    t.equal(fast.lines.length, CASES.length, 'one line per request');
    const withoutTime = (line: string): string => line.replace(/"time":\d+,/, '"time":0,');
    t.same(fast.lines.map(withoutTime), general.lines.map(withoutTime));
    for (const [i, line] of fast.lines.entries()) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      t.equal(parsed['path'], CASES[i]!.path, 'quotes, backslashes and control characters survive');
      t.type(parsed['time'], 'number');
    }
  },
);

t.test('no writer when info is off: nothing to format per request', async (t) => {
  t.equal(accessLineWriter(capturingLogger('warn').log), undefined);
});
