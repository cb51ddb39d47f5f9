import { request } from 'undici';
import { CODES, isTokenshimCode } from '../errors.js';
import { ADMIN_INTENT_HEADER } from '../proxy/admin/admin-routes.js';
import type { ReloadResult } from '../proxy/bindings.js';
import { defineCommand, runCommand, type CommandOptions, type CommandValues } from './command.js';
import { EXIT, type CliIo } from './io.js';
import { SERVE_PORT_OPTION, servePort } from './serve-port.js';

const RELOAD_OPTIONS = { ...SERVE_PORT_OPTION } as const satisfies CommandOptions;

export const reloadCommand = defineCommand({
  name: 'reload',
  usage: '[--port N]',
  about: `
Asks the tokenshim serve running on this machine to re-read its configuration, then prints
which DSNs were added, removed, changed and kept (their tokens survive). In-flight requests
are not cut. This is the way to reload on Windows, which has no SIGHUP; it works everywhere.`,
  options: RELOAD_OPTIONS,
  exitStatus:
    '0 reloaded, 1 no tokenshim answered or the reload failed, 2 the new configuration\nhas errors (the running one stays).',
  run: ({ values }, io) => reload(values, io),
});

export function runReload(argv: string[], io: CliIo): Promise<number> {
  return runCommand(reloadCommand, argv, io);
}

/** How long to wait for the running proxy: a reload reads a file and opens token stores. */
const RELOAD_TIMEOUT_MS = 30_000;

/** `tokenshim reload`: POST /_tokenshim/reload on 127.0.0.1 (the route answers loopback only). */
async function reload(values: CommandValues<typeof RELOAD_OPTIONS>, io: CliIo): Promise<number> {
  const port = servePort(values.port);
  const origin = `http://127.0.0.1:${port}`;
  let status: number;
  let body: string;
  try {
    const res = await request(`${origin}/_tokenshim/reload`, {
      method: 'POST',
      // the header no web page can send from another site: the route refuses POSTs without it
      headers: { [ADMIN_INTENT_HEADER]: '1' },
      headersTimeout: RELOAD_TIMEOUT_MS,
      bodyTimeout: RELOAD_TIMEOUT_MS,
    });
    status = res.statusCode;
    body = await res.body.text();
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).name;
    io.stderr.write(
      `tokenshim reload: nothing answered on ${origin} (${code}). Is tokenshim serve running? ` +
        `If it listens on another port, pass --port N (the port its first line names).\n`,
    );
    return EXIT.FAILURE;
  }
  const parsed = parseJson(body);
  if (status === 200 && isReloadResult(parsed)) {
    io.stdout.write(describeReload(origin, parsed));
    return EXIT.OK;
  }
  const problem = parsed as { code?: unknown; detail?: unknown } | undefined;
  if (typeof problem?.code === 'string' && isTokenshimCode(problem.code)) {
    io.stderr.write(
      `tokenshim reload: ${origin} did not reload (${problem.code}): ${String(problem.detail)}\n`,
    );
    return problem.code === CODES.CONFIG ? EXIT.USAGE : EXIT.FAILURE;
  }
  io.stderr.write(
    `tokenshim reload: ${origin} answered ${status} and is not a tokenshim that can reload. ` +
      'Pass --port N with the port tokenshim serve listens on.\n',
  );
  return EXIT.FAILURE;
}

/** What changed, one line per kind; the names are the DSNs'. */
export function describeReload(origin: string, r: ReloadResult): string {
  const lines = [`tokenshim on ${origin} re-read its configuration:`];
  if (r.added.length + r.removed.length + r.changed.length === 0) {
    lines.push(`  nothing changed (${r.unchanged.length} DSN(s) as before)`);
  } else {
    const row = (label: string, names: readonly string[]): string =>
      `  ${label.padEnd(10)} ${names.length === 0 ? '-' : names.join(', ')}`;
    lines.push(
      row('added:', r.added),
      row('removed:', r.removed),
      row('changed:', r.changed),
      row('unchanged:', r.unchanged),
    );
  }
  return `${lines.join('\n')}\n`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isReloadResult(v: unknown): v is ReloadResult {
  const r = v as Partial<Record<keyof ReloadResult, unknown>> | undefined;
  return (['added', 'removed', 'changed', 'unchanged'] as const).every((k) =>
    Array.isArray(r?.[k]),
  );
}
