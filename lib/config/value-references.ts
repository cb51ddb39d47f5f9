import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { openDpapi, type Dpapi, type DpapiDeps } from '../platform/dpapi.js';
import type { ConfigProblem } from './problems.js';
import type { RawEntry } from './resolve.js';

/**
 * Secrets kept out of the config file: any value may be, or contain, `${env:NAME}` (an
 * environment variable), `${file:PATH}` (a file's content, without its final line break; a
 * relative path is taken from the config file's folder) or `${dpapi:BASE64}` (Windows DPAPI,
 * made by `tokenshim protect`). `$${` stands for a literal `${`.
 *
 * A value that used a reference is a secret wherever it is shown, whatever its option: its origin
 * keeps the reference as written (`${env:CRM_SECRET}`, which is safe to print), and the resolved
 * text is returned so the DSN can carry it for redaction (DsnConfig.referencedSecrets).
 */

export interface ValueReferenceDeps {
  readonly env: NodeJS.ProcessEnv;
  /** folder for relative `${file:}` paths when a value does not come from a file */
  readonly cwd: string;
  readonly readFile?: (path: string) => Promise<Buffer>;
  readonly dpapi?: DpapiDeps;
}

export interface ResolvedReferences {
  readonly entries: RawEntry[];
  /** every resolved value that came from a reference, for redaction */
  readonly secrets: string[];
}

const SCHEMES = ['env', 'file', 'dpapi'] as const;
type Scheme = (typeof SCHEMES)[number];

/** DPAPI is opened once per resolver, and only when a value asks for it. */
export function createReferenceResolver(deps: ValueReferenceDeps) {
  let dpapi: Promise<Dpapi> | undefined;
  const read = deps.readFile ?? ((path: string) => readFile(path));

  const lookup = async (scheme: Scheme, arg: string, entry: RawEntry): Promise<string> => {
    switch (scheme) {
      case 'env': {
        const value = deps.env[arg];
        if (value === undefined) {
          throw new ReferenceProblem(
            `the environment variable ${arg} is not set`,
            `set ${arg} in the environment tokenshim runs in (for a Windows service: the service's environment), or write the value in the config`,
          );
        }
        return value;
      }
      case 'file': {
        const base = isAbsolute(entry.origin.source) ? dirname(entry.origin.source) : deps.cwd;
        const path = resolve(base, arg);
        let buf: Buffer;
        try {
          buf = await read(path);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? String(e);
          throw new ReferenceProblem(
            `the file ${path} cannot be read (${code})`,
            "check the path (relative paths start at the config file's folder) and that tokenshim's account may read it",
          );
        }
        return buf.toString('utf8').replace(/\r?\n$/, '');
      }
      case 'dpapi': {
        dpapi ??= openDpapi('CurrentUser', deps.dpapi);
        let api: Dpapi;
        try {
          api = await dpapi;
        } catch (e) {
          throw new ReferenceProblem(
            (e as Error).message,
            'take the value from ${env:NAME} or ${file:PATH} instead',
          );
        }
        const blob = Buffer.from(arg, 'base64');
        if (blob.length === 0 || blob.toString('base64') !== arg.replace(/\s/g, '')) {
          throw new ReferenceProblem(
            'the ${dpapi:...} value is not the base64 text tokenshim protect prints',
            'run tokenshim protect again and paste its whole output',
          );
        }
        try {
          return api.unprotect(blob).toString('utf8');
        } catch {
          throw new ReferenceProblem(
            'the ${dpapi:...} value cannot be decrypted by this account on this machine',
            'run tokenshim protect on this machine as the account tokenshim runs as (for a service, its service account), and paste the new value',
          );
        }
      }
    }
  };

  return async function resolveReferences(
    entries: readonly RawEntry[],
    dsn: string,
    problems: ConfigProblem[],
  ): Promise<ResolvedReferences> {
    const out: RawEntry[] = [];
    const secrets: string[] = [];
    for (const entry of entries) {
      if (!entry.value.includes('${')) {
        out.push(entry);
        continue;
      }
      try {
        const { value, used } = await substitute(entry, lookup);
        if (used.length === 0) {
          out.push({ ...entry, value });
          continue;
        }
        secrets.push(value, ...used);
        out.push({ ...entry, value, origin: { ...entry.origin, reference: entry.value } });
      } catch (e) {
        if (!(e instanceof ReferenceProblem)) throw e;
        problems.push({
          severity: 'error',
          source: entry.origin.source,
          ...(entry.origin.line === undefined ? {} : { line: entry.origin.line }),
          dsn,
          key: entry.origin.key,
          message: `${entry.key}: ${e.message}`,
          fix: e.fix,
        });
      }
    }
    return { entries: out, secrets: [...new Set(secrets)].filter((s) => s !== '') };
  };
}

class ReferenceProblem extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** `${scheme:arg}` replaced by what it names; `$${` left as `${`. */
async function substitute(
  entry: RawEntry,
  lookup: (scheme: Scheme, arg: string, entry: RawEntry) => Promise<string>,
): Promise<{ value: string; used: string[] }> {
  const text = entry.value;
  const used: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('${', i);
    if (at === -1) {
      out += text.slice(i);
      break;
    }
    if (at > 0 && text[at - 1] === '$') {
      out += `${text.slice(i, at - 1)}\${`;
      i = at + 2;
      continue;
    }
    out += text.slice(i, at);
    const m = /^\$\{([A-Za-z]+):/.exec(text.slice(at));
    if (!m) {
      out += '${';
      i = at + 2;
      continue;
    }
    const scheme = m[1]!.toLowerCase();
    const close = text.indexOf('}', at);
    if (!(SCHEMES as readonly string[]).includes(scheme)) {
      throw new ReferenceProblem(
        `"\${${m[1]}:" is not a reference tokenshim knows`,
        'use ${env:NAME}, ${file:PATH} or ${dpapi:...}; write $${ for a literal ${',
      );
    }
    if (close === -1) {
      throw new ReferenceProblem(
        `the reference "\${${m[1]}:" has no closing }`,
        `end it with }, e.g. \${${scheme}:...}`,
      );
    }
    const arg = text.slice(at + m[0].length, close).trim();
    if (arg === '') {
      throw new ReferenceProblem(
        `the reference \${${scheme}:} names nothing`,
        `write \${${scheme}:...}`,
      );
    }
    const value = await lookup(scheme as Scheme, arg, entry);
    used.push(value);
    out += value;
    i = close + 1;
  }
  return { value: out, used };
}
