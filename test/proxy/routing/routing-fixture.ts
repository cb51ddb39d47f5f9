/** What the routing tests share: a route table of DSNs, and the listeners a request arrives on. */
import t from 'tap';
import { Agent } from 'undici';
import type { DsnConfig } from '../../../lib/config/dsn.js';
import { DsnBinding } from '../../../lib/proxy/dsn-binding.js';
import { HostCheck } from '../../../lib/proxy/routing/host-check.js';
import type { RoutingListener } from '../../../lib/proxy/routing/route-request.js';
import { RouteTable } from '../../../lib/proxy/routing/route-table.js';
import { StubProvider } from '../../fixtures/stub-provider.js';

const dispatcher = new Agent();
t.teardown(() => dispatcher.close());

/** the DSNs as routing sees them (nothing is sent: the stub providers and the agent stay idle) */
export function tableOf(...dsns: DsnConfig[]): RouteTable {
  return new RouteTable(dsns.map((d) => new DsnBinding(d, new StubProvider(d), dispatcher)));
}

const hostCheck = new HostCheck('127.0.0.1');
const gateway = (): string => 'http://127.0.0.1:8790';
/** the main port, 8790 */
export const main: RoutingListener = { port: 8790, dsnName: undefined, hostCheck, gateway };
/** the DSN crm's ListenPort, 9001 */
export const dedicated: RoutingListener = { port: 9001, dsnName: 'crm', hostCheck, gateway };
