import { ENV } from '../platform/environment-names.js';
import { loadConfig } from '../config/load.js';
import { formatProblem, hasErrors, type ConfigProblem } from '../config/problems.js';
import { requireClientKeys } from '../proxy/access/remote-mode.js';
import { PROXY_DEFAULTS } from '../proxy/defaults.js';
import { LOG_FILE_DEFAULTS } from '../log/rotating-log-file.js';
import { defineService, type ServiceDefinition } from '../service/service-definition.js';
import { processServiceHost, type ServiceHost } from '../service/service-host.js';
import { describePlan, runPlan, type ServicePlan } from '../service/service-plan.js';
import { systemdPlan, systemdUnitPath } from '../service/systemd.js';
import { windowsPlan, winswPaths } from '../service/winsw.js';
import { SERVE_NETWORK_OPTIONS, networkSettings } from './serve-network.js';
import { SERVE_TLS_OPTIONS, tlsFlagsPaired } from './serve-tls.js';
import { defineCommand, runCommand, type CommandOptions, type CommandValues } from './command.js';
import { EXIT, UsageError, wholeNumberOption, type CliIo } from './io.js';

const SERVICE_OPTIONS = {
  config: {
    type: 'string',
    value: 'FILE',
    help: 'the odbc.ini to serve, made absolute (default: $TOKENSHIM_CONFIG, $ODBCINI, ./odbc.ini)',
  },
  name: {
    type: 'string',
    value: 'NAME',
    help: "the service's name (default tokenshim); one service per config",
  },
  port: {
    type: 'string',
    value: 'N',
    help: `the port it listens on (default ${PROXY_DEFAULTS.port})`,
  },
  'log-file': {
    type: 'string',
    value: 'PATH',
    help: 'its log file (Windows default: <home>\\logs\\<name>.log; Linux: the journal)',
  },
  'log-max-size': {
    type: 'string',
    value: 'BYTES',
    help: `rotate the log file at this size (default ${LOG_FILE_DEFAULTS.maxBytes})`,
  },
  'log-keep': {
    type: 'string',
    value: 'N',
    help: `rotated log files kept (default ${LOG_FILE_DEFAULTS.keep})`,
  },
  account: {
    type: 'string',
    value: 'NAME',
    help:
      'Windows: LocalService (default), NetworkService, LocalSystem or DOMAIN\\gmsa$;\n' +
      'a Linux system unit: the user it runs as (default: you, or SUDO_USER)',
  },
  home: {
    type: 'string',
    value: 'DIR',
    help: `${ENV.HOME} of the service (Windows default %ProgramData%\\tokenshim)`,
  },
  user: { type: 'boolean', default: false, help: 'Linux: a user unit (default as a user)' },
  system: { type: 'boolean', default: false, help: 'Linux: a system unit (default as root)' },
  winsw: {
    type: 'string',
    value: 'FILE',
    help: 'Windows: a WinSW executable to use instead of the bundled one',
  },
  ...SERVE_NETWORK_OPTIONS,
  ...SERVE_TLS_OPTIONS,
  'dry-run': {
    type: 'boolean',
    default: false,
    help: 'print the files and commands; change nothing',
  },
} as const satisfies CommandOptions;

const ACTIONS = new Set(['install', 'uninstall', 'start', 'stop', 'status']);

export interface ServiceCliDeps {
  readonly host?: ServiceHost;
  /** problems of the config a service is installed for; default loadConfig */
  readonly validateConfig?: (
    path: string,
    serve: { readonly allowRemote: boolean },
  ) => Promise<readonly ConfigProblem[]>;
}

/** `tokenshim service`: seams for tests (a fake machine, a config check). */
export function serviceCommand(deps: ServiceCliDeps = {}) {
  return defineCommand({
    name: 'service',
    usage: '<install|uninstall|start|stop|status> [options]',
    about: `
Runs tokenshim serve as a service that starts with the machine, restarts when it fails and
drains in-flight requests when stopped: a Windows service through WinSW (the copy the
node-windows package ships), or a systemd unit on Linux. --dry-run prints exactly what would be
registered (the service XML or the unit file, and every command) on any platform.

Windows: run it from an elevated prompt (Run as administrator). See docs/windows.md.`,
    options: SERVICE_OPTIONS,
    positional: 'ACTION',
    exitStatus:
      '0 done, 1 the service manager refused or no such service is installed, 2 usage or configuration errors.',
    run: ({ values, positionals }, io) => service(values, positionals, io, deps),
  });
}

export function runService(argv: string[], io: CliIo, deps: ServiceCliDeps = {}): Promise<number> {
  return runCommand(serviceCommand(deps), argv, io);
}

async function service(
  values: CommandValues<typeof SERVICE_OPTIONS>,
  positionals: readonly string[],
  io: CliIo,
  deps: ServiceCliDeps,
): Promise<number> {
  const [action, ...extra] = positionals;
  if (action === undefined || !ACTIONS.has(action) || extra.length > 0) {
    throw new UsageError(
      `say what to do: tokenshim service install, uninstall, start, stop or status${action === undefined ? '' : ` (not "${positionals.join(' ')}")`}`,
    );
  }
  if (values.user && values.system) throw new UsageError('--user and --system: pick one');
  const host = deps.host ?? processServiceHost(io.env, io.cwd);
  if (host.platform !== 'win32' && host.platform !== 'linux') {
    throw new UsageError(
      `tokenshim service knows Windows (WinSW) and Linux (systemd); on ${host.platform}, run tokenshim serve under your own service manager`,
    );
  }
  // checked as serve checks them, so a service is not registered with a serve that cannot start
  const network = networkSettings(values);
  tlsFlagsPaired(values);
  const def = defineService(
    {
      name: values.name,
      config: values.config,
      port: numberOption('--port', values.port, 1, 65535),
      logFile: values['log-file'],
      logMaxSize: numberOption('--log-max-size', values['log-max-size'], 1024, 2 ** 40),
      logKeep: numberOption('--log-keep', values['log-keep'], 1, 1000),
      account: values.account,
      home: values.home,
      scope: values.user ? 'user' : values.system ? 'system' : undefined,
      network: {
        host: network.host,
        allowRemote: network.allowRemote,
        acceptHosts: network.acceptHosts,
        clientHeadersTimeout: values['client-headers-timeout'],
        clientIdleTimeout: values['client-idle-timeout'],
      },
      tls: { cert: values['tls-cert'], key: values['tls-key'], pfx: values['tls-pfx'] },
    },
    host,
  );
  if (action === 'install') {
    const problems = await (deps.validateConfig ?? defaultValidate)(def.configPath, {
      allowRemote: network.allowRemote,
    });
    if (problems.length > 0) io.stderr.write(`${problems.map(formatProblem).join('\n')}\n`);
    if (hasErrors(problems)) {
      io.stderr.write(
        `tokenshim service: ${def.configPath} has errors; fix them (tokenshim check --config ${def.configPath} --offline) and install again\n`,
      );
      return EXIT.USAGE;
    }
  }
  const plan = planFor(action, def, host, values.winsw);
  if (values['dry-run']) {
    io.stdout.write(`dry run: nothing is changed. tokenshim service ${action} would:\n\n`);
    io.stdout.write(describePlan(plan, host.platform));
    return EXIT.OK;
  }
  if (
    host.platform === 'win32' &&
    action !== 'install' &&
    !(await host.exists(winswPaths(def).exe))
  ) {
    io.stderr.write(
      `tokenshim service: no service "${def.name}" is installed here (${winswPaths(def).exe} is missing).\n`,
    );
    return action === 'status' ? EXIT.FAILURE : EXIT.USAGE;
  }
  if (plan.summary.length > 0) io.stdout.write(`${plan.summary.join('\n')}\n`);
  const result = await runPlan(plan, host);
  if (result.output) io.stdout.write(`${result.output}\n`);
  if (!result.ok) {
    io.stderr.write(`tokenshim service ${action}: ${result.output}\n${privilegeHint(def, host)}\n`);
    return EXIT.FAILURE;
  }
  if (plan.notes.length > 0) io.stdout.write(`${plan.notes.join('\n')}\n`);
  return EXIT.OK;
}

function planFor(
  action: string,
  def: ServiceDefinition,
  host: ServiceHost,
  winsw: string | undefined,
): ServicePlan {
  if (host.platform === 'win32') {
    const bundled = host.winswExecutable();
    return windowsPlan(
      action,
      def,
      winsw === undefined ? { exe: bundled, config: `${bundled}.config` } : { exe: winsw },
    );
  }
  return systemdPlan(action, def, systemdUnitPath(def, host.homedir, host.env));
}

function privilegeHint(def: ServiceDefinition, host: ServiceHost): string {
  if (host.platform === 'win32') {
    return 'Services are changed from an elevated prompt: right-click the Command Prompt or PowerShell, "Run as administrator".';
  }
  return def.scope === 'system'
    ? 'A system unit needs root: run it with sudo, or pass --user for a unit of your own.'
    : 'A user unit needs a user systemd (systemctl --user): log in through a session, or use --system with sudo.';
}

/** The config's problems; with --allow-remote, a DSN without a ClientKey refuses, as serve would. */
async function defaultValidate(
  path: string,
  serve: { readonly allowRemote: boolean },
): Promise<readonly ConfigProblem[]> {
  const loaded = await loadConfig({ configPath: path });
  if (serve.allowRemote && !hasErrors(loaded.problems)) requireClientKeys(loaded.dsns);
  return loaded.problems;
}

function numberOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return value === undefined ? undefined : wholeNumberOption(name, value, min, max);
}
