import { dirname, isAbsolute, resolve } from 'node:path';
import { lookupOption, OPTION, type OptionDef } from './catalogue.js';
import type { ModelFileUse, RawEntry } from './dsn.js';
import { readModelFile, type ModelFile } from './model-file.js';
import type { ConfigProblem } from './problems.js';

/**
 * The Model file a DSN's RestConfigFile (JDBC: Config) names, read for what a proxy can use of it
 * (lib/config/model-file.ts): its endpoints' origins, its `#headers`, and its OAuth entries, which
 * stand in for options the DSN leaves out (DataDirect: "auth options can live in the Model file
 * or in the connection string").
 *
 * Without HostName the file is where requests go, so a file that cannot be read refuses the DSN;
 * with HostName it only adds headers and origins, so its problems are warnings.
 */

/**
 * A Model file as one DSN uses it: the file, and what the resolved DSN shows of it; `file` is
 * undefined when it could not be read (the problems say why).
 */
export interface DsnModel {
  readonly path: string;
  readonly file?: ModelFile;
  /** set together with `file` */
  readonly use?: Omit<ModelFileUse, 'givesUpstream'>;
}

/** Model file OAuth entries (model-file.ts names them in lower case) that are catalogue options. */
const MODEL_OPTIONS: ReadonlyMap<string, OptionDef> = new Map<string, OptionDef>([
  ['authenticationmethod', OPTION.AuthenticationMethod],
  ['tokenuri', OPTION.TokenURI],
  ['authuri', OPTION.AuthURI],
  ['redirecturi', OPTION.RedirectURI],
  ['scope', OPTION.Scope],
]);

const METHOD_PREFIX = /^((?:GET|POST)\s+)?(.*)$/is;

/**
 * Reads the DSN's Model file, if it names one: the entries come back with the options the file
 * supplies added (those the DSN sets itself win), and the file for resolveDsn.
 */
export async function readDsnModel(
  dsn: string,
  entries: readonly RawEntry[],
  cwd: string,
  problems: ConfigProblem[],
): Promise<{ entries: readonly RawEntry[]; model?: DsnModel }> {
  const named = entries.find((e) => lookupOption(e.key) === OPTION.RestConfigFile);
  if (named === undefined || named.value.trim() === '') return { entries };
  const hasHostName = entries.some(
    (e) => lookupOption(e.key) === OPTION.HostName && e.value.trim() !== '',
  );
  const base = isAbsolute(named.origin.source) ? dirname(named.origin.source) : cwd;
  const path = resolve(base, named.value.trim());

  const found: ConfigProblem[] = [];
  const file = await readModelFile(path, found);
  for (const p of found) {
    problems.push({
      ...p,
      // with HostName, requests still have somewhere to go: the file only adds to them
      severity: hasHostName && p.severity === 'error' ? 'warning' : p.severity,
      dsn,
      message: `RestConfigFile (${named.key}=${named.origin.reference ?? named.value}): ${p.message}`,
      ...(hasHostName ? { fix: `${p.fix ?? ''}; until then its #headers are not sent` } : {}),
    });
  }
  if (!file) return { entries, model: { path } };

  const supplied: string[] = [];
  const added: RawEntry[] = [];
  const set = new Set(entries.map((e) => lookupOption(e.key)).filter((o) => o !== undefined));
  for (const [name, value] of file.oauth) {
    const option = MODEL_OPTIONS.get(name);
    if (option === undefined || set.has(option)) continue;
    const key = `#options.${name}`;
    added.push({
      key: option.name,
      value:
        option === OPTION.TokenURI || option === OPTION.AuthURI ? absolute(value, file) : value,
      origin: { source: path, key },
    });
    supplied.push(option.name);
  }
  const unused = [...file.oauth.keys()]
    .filter((name) => !MODEL_OPTIONS.has(name))
    .map((name) => ({
      key: `#options.${name}`,
      why: 'a DataDirect driver setting tokenshim has no use for',
    }));
  return {
    entries: [...entries, ...added],
    model: {
      path,
      file,
      use: { path, origins: file.origins, ignored: [...file.ignored, ...unused], supplied },
    },
  };
}

/**
 * `tokenURI` relative to `#hostname` (or to the first endpoint's origin), as the Model file allows;
 * a `POST ` prefix stays in front.
 */
function absolute(value: string, file: ModelFile): string {
  const [, prefix = '', url = ''] = METHOD_PREFIX.exec(value.trim()) ?? [];
  const base = file.hostname ?? file.origins[0];
  if (base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(url)) return value;
  try {
    return `${prefix}${new URL(url, base.endsWith('/') ? base : `${base}/`).href}`;
  } catch {
    return value;
  }
}
