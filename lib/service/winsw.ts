import { ENV } from '../platform/environment-names.js';
import { win32 } from 'node:path';
import { windowsCommandLine } from '../platform/windows-command-line.js';
import type { ServiceDefinition } from './service-definition.js';
import type { ServicePlan } from './service-plan.js';

/** The SIDs of the built-in accounts: icacls takes them whatever the language of Windows. */
const ACCOUNT_SIDS: Readonly<Record<string, string>> = Object.freeze({
  LocalService: '*S-1-5-19',
  NetworkService: '*S-1-5-20',
  LocalSystem: '*S-1-5-18',
});
const SYSTEM_SID = '*S-1-5-18';
const ADMINISTRATORS_SID = '*S-1-5-32-544';

/** Where WinSW and its definition live: `<TOKENSHIM_HOME>\service\<name>.exe` and `<name>.xml` beside it. */
export function winswPaths(def: ServiceDefinition): {
  dir: string;
  exe: string;
  xml: string;
  config: string;
} {
  const dir = win32.join(def.home ?? 'C:\\ProgramData\\tokenshim', 'service');
  return {
    dir,
    exe: win32.join(dir, `${def.name}.exe`),
    xml: win32.join(dir, `${def.name}.xml`),
    // lets WinSW 1.x, built for .NET 2, run on the .NET 4 that current Windows has
    config: win32.join(dir, `${def.name}.exe.config`),
  };
}

/**
 * The WinSW service definition. Elements WinSW 1.17 (the one node-windows ships) and 2.x read
 * alike. WinSW starts node.exe itself (no wrapper process), restarts it when it exits with an
 * error, and on stop sends Ctrl+C (SIGINT in node), waits `stoptimeout`, and only then kills:
 * tokenshim drains in that time.
 */
export function renderWinswXml(def: ServiceDefinition): string {
  const x = escapeXml;
  const logDir = def.logFile === undefined ? undefined : win32.dirname(def.logFile);
  const account =
    def.account === 'LocalSystem'
      ? []
      : [
          '  <serviceaccount>',
          `    <domain>${x(def.account.includes('\\') ? def.account.split('\\')[0]! : 'NT AUTHORITY')}</domain>`,
          `    <user>${x(def.account.includes('\\') ? def.account.split('\\')[1]! : def.account)}</user>`,
          ...(def.account.endsWith('$') ? ['    <allowservicelogon>true</allowservicelogon>'] : []),
          '  </serviceaccount>',
        ];
  return [
    '<!-- Written by `tokenshim service install`; `tokenshim service uninstall` removes it. -->',
    '<service>',
    `  <id>${x(def.name)}</id>`,
    `  <name>${x(def.name)}</name>`,
    `  <description>${x(def.description)}</description>`,
    `  <executable>${x(def.node)}</executable>`,
    `  <arguments>${x(windowsCommandLine([def.entry, ...def.serveArgs]))}</arguments>`,
    ...(def.home === undefined
      ? []
      : [
          `  <workingdirectory>${x(def.home)}</workingdirectory>`,
          `  <env name="${ENV.HOME}" value="${x(def.home, true)}"/>`,
        ]),
    '  <startmode>Automatic</startmode>',
    '  <onfailure action="restart" delay="10 sec"/>',
    '  <onfailure action="restart" delay="30 sec"/>',
    '  <onfailure action="restart" delay="60 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    `  <stoptimeout>${def.stopTimeoutSeconds} sec</stoptimeout>`,
    // WinSW's own log and node's stdout/stderr (the startup lines, a crash): tokenshim's log is --log-file
    ...(logDir === undefined ? [] : [`  <logpath>${x(logDir)}</logpath>`]),
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>5</keepFiles>',
    '  </log>',
    ...account,
    '</service>',
    '',
  ].join('\r\n');
}

/** WinSW to copy: node-windows' build comes with the .exe.config that .NET 4 needs; a newer one (--winsw) without. */
export interface WinswSource {
  readonly exe: string;
  readonly config?: string | undefined;
}

export function windowsPlan(
  action: string,
  def: ServiceDefinition,
  winsw: WinswSource,
): ServicePlan {
  const p = winswPaths(def);
  const summary = [
    `Windows service "${def.name}" (WinSW), account ${def.account}:`,
    `  ${windowsCommandLine([def.node, def.entry, ...def.serveArgs])}`,
  ];
  switch (action) {
    case 'install': {
      const sid = ACCOUNT_SIDS[def.account] ?? def.account;
      const logDir = def.logFile === undefined ? [] : [win32.dirname(def.logFile)];
      return {
        summary,
        steps: [
          ...[def.home!, p.dir, ...logDir].map((path) => ({ kind: 'mkdir' as const, path })),
          { kind: 'copy', from: winsw.exe, to: p.exe },
          ...(winsw.config === undefined
            ? []
            : [{ kind: 'copy' as const, from: winsw.config, to: p.config }]),
          { kind: 'write', path: p.xml, content: renderWinswXml(def) },
          // TOKENSHIM_HOME holds the config's secrets, the token store and the logs: SYSTEM,
          // Administrators and the service account only, not every user of the machine
          {
            kind: 'run',
            file: 'icacls.exe',
            args: [
              def.home!,
              '/inheritance:r',
              '/grant:r',
              `${SYSTEM_SID}:(OI)(CI)F`,
              `${ADMINISTRATORS_SID}:(OI)(CI)F`,
              ...(sid === SYSTEM_SID ? [] : [`${sid}:(OI)(CI)M`]),
            ],
          },
          { kind: 'run', file: p.exe, args: ['install'] },
        ],
        notes: [
          ...def.warnings,
          `Start it: tokenshim service start${nameFlag(def)}   (it also starts with Windows)`,
        ],
      };
    }
    case 'uninstall':
      return {
        summary,
        steps: [
          { kind: 'run', file: p.exe, args: ['stop'], mayFail: true },
          { kind: 'run', file: p.exe, args: ['uninstall'] },
          { kind: 'remove', path: p.exe },
          { kind: 'remove', path: p.config },
          { kind: 'remove', path: p.xml },
        ],
        notes: [
          `The config, the token store${def.logFile === undefined ? '' : ' and the logs'} stay in place.`,
        ],
      };
    default:
      return {
        summary: [],
        steps: [{ kind: 'run', file: p.exe, args: [action], show: true }],
        notes: [],
      };
  }
}

export function nameFlag(def: ServiceDefinition): string {
  return def.name === 'tokenshim' ? '' : ` --name ${def.name}`;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
};

/** for element text and double-quoted attributes; a quoted path stays readable in element text */
function escapeXml(text: string, attribute = false): string {
  return text.replace(attribute ? /[&<>"]/g : /[&<>]/g, (c) => XML_ESCAPES[c]!);
}
