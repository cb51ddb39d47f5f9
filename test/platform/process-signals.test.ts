import { EventEmitter } from 'node:events';
import t from 'tap';
import { signalRoles, watchSignals } from '../../lib/platform/process-signals.js';

t.test('POSIX: SIGTERM and SIGINT stop, SIGHUP reloads', async (t) => {
  t.same(signalRoles('linux'), { stop: ['SIGTERM', 'SIGINT'], reload: ['SIGHUP'] });
});

t.test(
  'Windows: Ctrl+C, Ctrl+Break, a closing console and SIGTERM stop; nothing reloads',
  async (t) => {
    t.same(signalRoles('win32'), { stop: ['SIGINT', 'SIGBREAK', 'SIGHUP', 'SIGTERM'], reload: [] });
  },
);

t.test('watchSignals routes each signal to its role and unsubscribes every listener', async (t) => {
  const signals = new EventEmitter();
  const seen: string[] = [];
  const unwatch = watchSignals(signals, 'linux', {
    stop: (s) => seen.push(`stop ${s}`),
    reload: (s) => seen.push(`reload ${s}`),
  });
  signals.emit('SIGHUP');
  signals.emit('SIGTERM');
  signals.emit('SIGBREAK');
  t.same(seen, ['reload SIGHUP', 'stop SIGTERM']);
  unwatch();
  t.same(signals.eventNames(), []);
});
