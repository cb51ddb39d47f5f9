import { readFile } from 'node:fs/promises';
import {
  findNodeAtLocation,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import type { ConfigProblem } from './problems.js';

/**
 * DataDirect Model files (`RestConfigFile=x.rest`, JDBC `Config`): JSON that maps table names to
 * REST endpoints, `"<table>": "<endpoint>"` or `"<table>": {"#path": ..., ...}`, beside `#` entries
 * for the driver (`#hostname`, `#headers`, `#http`, `#authentication`, OAuth entries, paging,
 * `routines`). An endpoint is `[METHOD] <host_name>/<endpoint_path> [<json_root>]`; host_name may be
 * left out when HostName (or `#hostname`) gives it.
 *
 * A proxy needs little of this: where requests go (the origins of the endpoints: the first is the
 * upstream, the others may receive the token too) and the static headers to send. The rest steers
 * DataDirect's SQL engine and is listed, once per entry, as ignored with the reason.
 *
 * Read with jsonc-parser: DataDirect's own examples carry // comments, and its errors give the
 * offset that becomes the line in our messages.
 */

export interface ModelFile {
  /** `#hostname` as written, when the file sets it */
  readonly hostname?: string;
  /**
   * Origins (`https://host[:port]`) in the order the file names them, `#hostname` first: the first
   * is the upstream, the others are extra hosts the token may go to (AllowedHosts).
   */
  readonly origins: readonly string[];
  /** top-level `#headers`: sent with every upstream request */
  readonly headers: readonly (readonly [string, string])[];
  /** OAuth entries (`#tokenUri`, `#scope`, `#options.tokenURI`...), by lower-cased name */
  readonly oauth: ReadonlyMap<string, string>;
  /** what the file says that tokenshim does not use, and why: one item per kind of entry */
  readonly ignored: readonly { readonly key: string; readonly why: string }[];
}

const OAUTH_KEYS = new Set([
  'authenticationmethod',
  'authuri',
  'enableloginprompt',
  'logoffuri',
  'redirecturi',
  'scope',
  'tokenuri',
]);

const METHODS = /^(?:GET|POST|PUT|PATCH|DELETE|IDENTITY)\s+/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why each driver-only top-level entry does not matter to a proxy. */
const IGNORED_TOP_LEVEL: Readonly<Record<string, string>> = {
  '#http':
    'HTTP status rules steer the driver; tokenshim passes responses through and refreshes on RefreshOnStatus (401)',
  '#authentication':
    'custom authentication steps (AuthenticationMethod=29) are not supported by tokenshim',
  '#reauthentication':
    'custom authentication steps (AuthenticationMethod=29) are not supported by tokenshim',
  '#components': 'column definitions for the relational map',
  '#version': 'descriptive only',
  '#description': 'descriptive only',
  routines: 'stored procedures and functions of the SQL engine',
};

export async function readModelFile(
  path: string,
  problems: ConfigProblem[],
): Promise<ModelFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    problems.push({
      severity: 'error',
      source: path,
      message: `the Model file cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      fix: 'check the RestConfigFile path (on this machine), or set HostName instead',
    });
    return undefined;
  }
  return parseModelFile(text, path, problems);
}

export function parseModelFile(
  text: string,
  file: string,
  problems: ConfigProblem[],
): ModelFile | undefined {
  const lineAt = (offset: number): number => text.slice(0, offset).split('\n').length;
  const root = parseRoot(text, file, lineAt, problems);
  if (!root) return undefined;

  const problem = (node: Node, key: string, message: string, fix: string): void => {
    problems.push({
      severity: 'error',
      source: file,
      line: lineAt(node.offset),
      key,
      message,
      fix,
    });
  };
  const origins: string[] = [];
  const addOrigin = (url: string, node: Node, key: string): void => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      problem(node, key, `"${url}" is not a URL`, 'write it as https://host/path');
      return;
    }
    if (/[{}[\]]/.test(decodeURI(parsed.host))) {
      problem(
        node,
        key,
        `the host of "${url}" holds a placeholder`,
        'write the host name itself; placeholders belong in the path',
      );
      return;
    }
    if (!origins.includes(parsed.origin)) origins.push(parsed.origin);
  };

  const ignored = new Map<string, string>();
  const oauth = new Map<string, string>();
  let hostname: string | undefined;
  let headers: [string, string][] = [];
  const tablesWithHeaders: string[] = [];
  let tables = 0;

  for (const property of root.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (!keyNode || !valueNode) continue;
    const key = String(keyNode.value);
    const lower = key.toLowerCase();
    if (lower === '#hostname') {
      if (valueNode.type !== 'string') {
        problem(
          valueNode,
          key,
          '#hostname is not a string',
          'write "#hostname": "https://api.example.com"',
        );
        continue;
      }
      hostname = String(valueNode.value);
      addOrigin(hostname, valueNode, key);
    } else if (lower === '#headers') {
      headers = readHeaders(valueNode, key, problem, ignored);
    } else if (lower === '#options') {
      readOptions(valueNode, oauth, ignored);
    } else if (key.startsWith('#') && OAUTH_KEYS.has(lower.slice(1))) {
      if (valueNode.type === 'string' || valueNode.type === 'boolean')
        oauth.set(lower.slice(1), String(getNodeValue(valueNode)));
    } else if (IGNORED_TOP_LEVEL[lower] !== undefined) {
      ignored.set(key, IGNORED_TOP_LEVEL[lower]);
    } else if (key.startsWith('#')) {
      ignored.set(
        key,
        'a driver setting (paging, parsing or SQL mapping) that a proxy does not use',
      );
    } else {
      tables++;
      for (const endpoint of readEndpoints(valueNode, key, problem)) {
        const url = endpoint.text.replace(METHODS, '').trim().split(/\s+/)[0] ?? '';
        if (/^https?:\/\//i.test(url)) addOrigin(url, endpoint.node, key);
      }
      if (valueNode.type === 'object' && findNodeAtLocation(valueNode, ['#headers']))
        tablesWithHeaders.push(key);
    }
  }
  if (tables > 0) {
    ignored.set(
      'tables',
      `${tables} table definition(s): columns, paging and the relational map are the driver's; tokenshim takes only the hosts of their endpoints`,
    );
  }
  if (tablesWithHeaders.length > 0) {
    ignored.set(
      '#headers of a table',
      `tokenshim sends one set of headers per DSN, not per table (${tablesWithHeaders.join(', ')}): move a header to the top-level #headers if every request may carry it`,
    );
  }
  return {
    ...(hostname === undefined ? {} : { hostname }),
    origins,
    headers,
    oauth,
    ignored: [...ignored].map(([key, why]) => ({ key, why })),
  };
}

/** The Model file's JSON as a tree, or undefined after saying what is wrong with it and where. */
function parseRoot(
  text: string,
  file: string,
  lineAt: (offset: number) => number,
  problems: ConfigProblem[],
): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text.replace(/^\uFEFF/, ''), errors, {
    allowTrailingComma: true,
    disallowComments: false,
  });
  if (errors.length > 0 || !root) {
    const first = errors[0];
    problems.push({
      severity: 'error',
      source: file,
      ...(first ? { line: lineAt(first.offset) } : {}),
      message: `the Model file is not valid JSON${first ? ` (${printParseErrorCode(first.error)})` : ''}`,
      fix: 'fix the JSON at that line (DataDirect Model files are JSON; // comments are allowed)',
    });
    return undefined;
  }
  if (root.type !== 'object') {
    problems.push({
      severity: 'error',
      source: file,
      line: lineAt(root.offset),
      message: 'the Model file is not a JSON object of "<table>": "<endpoint>" entries',
      fix: 'see DataDirect\'s "Model file syntax"',
    });
    return undefined;
  }
  return root;
}

function readEndpoints(
  value: Node,
  table: string,
  problem: (node: Node, key: string, message: string, fix: string) => void,
): { text: string; node: Node }[] {
  if (value.type === 'string') return [{ text: String(value.value), node: value }];
  if (value.type !== 'object') {
    problem(
      value,
      table,
      `the table "${table}" is neither an endpoint string nor an object with #path`,
      'write "<table>": "https://host/path" or "<table>": {"#path": "https://host/path"}',
    );
    return [];
  }
  const out: { text: string; node: Node }[] = [];
  for (const name of ['#path', '#insert', '#update', '#delete']) {
    const node = findNodeAtLocation(value, [name]);
    if (!node) continue;
    const items = node.type === 'array' ? (node.children ?? []) : [node];
    for (const item of items) {
      if (item.type === 'string') out.push({ text: String(item.value), node: item });
      else
        problem(
          item,
          table,
          `${name} of the table "${table}" is not an endpoint string`,
          `write "${name}": "https://host/path" (or a list of them for #path)`,
        );
    }
  }
  return out;
}

function readHeaders(
  value: Node,
  key: string,
  problem: (node: Node, key: string, message: string, fix: string) => void,
  ignored: Map<string, string>,
): [string, string][] {
  if (value.type !== 'object') {
    problem(
      value,
      key,
      '#headers is not an object of header names and values',
      'write "#headers": {"Accept": "application/json"}',
    );
    return [];
  }
  const headers: [string, string][] = [];
  for (const property of value.children ?? []) {
    const [nameNode, valueNode] = property.children ?? [];
    if (!nameNode || !valueNode) continue;
    const name = String(nameNode.value);
    if (!HEADER_NAME.test(name)) {
      problem(
        nameNode,
        `#headers.${name}`,
        `"${name}" is not an HTTP header name`,
        'use letters, digits and - only',
      );
      continue;
    }
    if (
      valueNode.type !== 'string' &&
      valueNode.type !== 'number' &&
      valueNode.type !== 'boolean'
    ) {
      problem(
        valueNode,
        `#headers.${name}`,
        `the value of the header ${name} is not text`,
        `write "${name}": "value"`,
      );
      continue;
    }
    const text = String(getNodeValue(valueNode));
    if (/\{[^}]*\}/.test(text)) {
      ignored.set(
        `#headers.${name}`,
        'its value has a {placeholder} the driver fills from the SQL query, which a proxy never sees',
      );
      continue;
    }
    headers.push([name, text]);
  }
  return headers;
}

/** `#options`: OAuth settings as strings, `authenticationmethod` as its default (or only) choice. */
function readOptions(value: Node, oauth: Map<string, string>, ignored: Map<string, string>): void {
  const options = getNodeValue(value) as unknown;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return;
  for (const [name, raw] of Object.entries(options as Record<string, unknown>)) {
    const lower = name.toLowerCase();
    if (!OAUTH_KEYS.has(lower)) {
      ignored.set(`#options.${name}`, 'not an option tokenshim reads from a Model file');
      continue;
    }
    const chosen =
      raw !== null && typeof raw === 'object' ? (raw as { default?: unknown }).default : raw;
    if (typeof chosen === 'string' || typeof chosen === 'boolean') oauth.set(lower, String(chosen));
  }
}
