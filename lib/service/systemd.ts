import { ENV } from '../platform/environment-names.js';
import { posix } from 'node:path';
import type { ServiceDefinition } from './service-definition.js';
import type { ServicePlan } from './service-plan.js';
import { nameFlag } from './winsw.js';

/** `/etc/systemd/system/<name>.service`, or the user's `~/.config/systemd/user/<name>.service`. */
export function systemdUnitPath(
  def: ServiceDefinition,
  homedir: string,
  env: NodeJS.ProcessEnv,
): string {
  if (def.scope === 'system') return `/etc/systemd/system/${def.name}.service`;
  const config = env.XDG_CONFIG_HOME || posix.join(homedir, '.config');
  return posix.join(config, 'systemd', 'user', `${def.name}.service`);
}

/**
 * One argument of ExecStart: systemd splits on spaces and reads C-style escapes inside double
 * quotes, and expands `%` specifiers and `$` variables, which a path may contain literally.
 */
export function quoteSystemdArgument(arg: string): string {
  const literal = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (literal !== '' && /^[\w@%$+=:,./-]+$/.test(literal)) return literal;
  return `"${literal.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The unit: systemd runs `node bin.js serve ...` itself, restarts it when it fails, sends SIGTERM
 * on stop (tokenshim drains) and SIGHUP on `systemctl reload`. Logs go to the journal unless a
 * --log-file was asked for.
 */
export function renderSystemdUnit(def: ServiceDefinition): string {
  const exec = [def.node, def.entry, ...def.serveArgs].map(quoteSystemdArgument).join(' ');
  return [
    '# Written by `tokenshim service install`; `tokenshim service uninstall` removes it.',
    '[Unit]',
    `Description=${def.description.replace(/%/g, '%%')}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Restart=on-failure',
    'RestartSec=5',
    `TimeoutStopSec=${def.stopTimeoutSeconds}`,
    ...(def.scope === 'system' ? [`User=${def.account}`] : []),
    // one path, taken whole (quotes would be part of it); only specifiers need escaping
    `WorkingDirectory=${posix.dirname(def.configPath).replace(/%/g, '%%')}`,
    ...(def.home === undefined
      ? []
      : [`Environment=${quoteSystemdArgument(`${ENV.HOME}=${def.home}`)}`]),
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    `WantedBy=${def.scope === 'system' ? 'multi-user.target' : 'default.target'}`,
    '',
  ].join('\n');
}

export function systemdPlan(action: string, def: ServiceDefinition, unitPath: string): ServicePlan {
  const ctl = (...args: string[]) => ({
    kind: 'run' as const,
    file: 'systemctl',
    args: [...(def.scope === 'user' ? ['--user'] : []), ...args],
  });
  const summary = [
    `systemd ${def.scope} unit "${def.name}"${def.scope === 'system' ? `, running as ${def.account}` : ''}:`,
  ];
  switch (action) {
    case 'install':
      return {
        summary,
        steps: [
          { kind: 'mkdir', path: posix.dirname(unitPath) },
          { kind: 'write', path: unitPath, content: renderSystemdUnit(def) },
          ctl('daemon-reload'),
          ctl('enable', def.name),
        ],
        notes: [
          ...def.warnings,
          ...(def.scope === 'user'
            ? [
                `A user unit runs while you are logged in; to keep it running after logout: loginctl enable-linger ${def.account}`,
              ]
            : []),
          `Start it: tokenshim service start${nameFlag(def)}${def.scope === 'user' ? ' --user' : ''}   (it also starts at boot)`,
        ],
      };
    case 'uninstall':
      return {
        summary,
        steps: [
          ctl('disable', '--now', def.name),
          { kind: 'remove', path: unitPath },
          ctl('daemon-reload'),
        ],
        notes: ['The config, the token store and any log file stay in place.'],
      };
    case 'status':
      return {
        summary: [],
        steps: [{ ...ctl('status', '--no-pager', def.name), show: true, mayFail: true }],
        notes: [],
      };
    default:
      return { summary: [], steps: [{ ...ctl(action, def.name), show: true }], notes: [] };
  }
}
