import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../lib/config/load.js';
import {
  ATLASSIAN_CLIENT,
  jiraSampleOverrides,
  startAtlassian,
} from '../fixtures/imitations/atlassian.js';
import { GITHUB_CLIENT, startGitHub } from '../fixtures/imitations/github.js';
import { MARKETO_CLIENT, startMarketo } from '../fixtures/imitations/marketo.js';
import {
  call,
  loadSample,
  samplePath,
  startSampleProxy,
} from '../fixtures/imitations/sample-harness.js';
import { repoRoot } from '../fixtures/repo.js';
import {
  flattenTables,
  parseLoadScript,
  type LoadScript,
  type SelectedTable,
} from './qlik-load-script.js';

const MASTER = 'RestConnectorMasterTable';
/** what the two-step OAuth workaround needs and tokenshim makes unnecessary */
const TOKEN_STEP =
  /WITH\s+CONNECTION|HTTPHEADER|Authorization|Bearer|access_token|refresh_token|client_secret|grant_type|oauth/i;

const qlikDir = join(repoRoot, 'samples', 'qlik');
const scripts = readdirSync(qlikDir).filter((f) => f.endsWith('.qvs'));

async function sampleDsnNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const f of readdirSync(join(repoRoot, 'samples')).filter((f) => f.endsWith('.ini'))) {
    const { dsns } = await loadConfig({ configPath: samplePath(f), env: {} });
    for (const d of dsns) names.add(d.name);
  }
  return names;
}

/** Everything that keeps a script from being the connector's generated form over tokenshim. */
function problemsOf(script: LoadScript, dsns: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const dsn = /^tokenshim_(.+)$/.exec(script.connection)?.[1];
  if (!dsn || !dsns.has(dsn))
    problems.push(`connection '${script.connection}' names no samples/*.ini DSN`);
  const url = /URL:\s+(\S+)/.exec(script.comments)?.[1];
  if (!url?.startsWith(`http://127.0.0.1:8790/${dsn}/`))
    problems.push(`the documented connection URL ${url} is not tokenshim's gateway for ${dsn}`);
  const token = TOKEN_STEP.exec(script.code);
  if (token) problems.push(`token handling in the script: ${token[0]}`);
  if (script.masterLabel !== MASTER)
    problems.push(`the SQL SELECT is labelled ${script.masterLabel}`);
  if (
    script.root.from !== 'JSON (wrap on)' ||
    script.root.name !== 'root' ||
    script.root.pk !== '__KEY_root'
  ) {
    problems.push('the SQL SELECT does not end FROM JSON (wrap on) "root" PK "__KEY_root"');
  }
  if (script.dropped !== MASTER) problems.push(`DROP TABLE ${script.dropped}`);

  for (const { table, parent } of flattenTables(script.root)) {
    const names = table.fields.map((f) => f.alias);
    if (table.pk && (table.pk !== `__KEY_${table.name}` || !names.includes(table.pk)))
      problems.push(`${table.name}: PK ${table.pk}`);
    if (parent && (table.fk !== `__FK_${table.name}` || !names.includes(table.fk)))
      problems.push(`${table.name}: FK ${table.fk}`);
    const load = script.loads.find((l) => l.label === table.name);
    if (!load) {
      problems.push(`no LOAD for table ${table.name}`);
      continue;
    }
    if (load.resident !== MASTER) problems.push(`[${table.name}] loads RESIDENT ${load.resident}`);
    const key = parent ? table.fk : table.pk;
    if (load.notNull !== key)
      problems.push(`[${table.name}] filters on ${load.notNull}, not ${key}`);
    if (parent && !load.fields.some((f) => f.source === table.fk && f.alias === parent.pk)) {
      problems.push(`[${table.name}] does not link [${table.fk}] AS [${parent.pk}]`);
    }
    for (const f of load.fields)
      if (!names.includes(f.source))
        problems.push(`[${table.name}] loads [${f.source}], which the SELECT does not name`);
  }
  if (script.loads.length !== flattenTables(script.root).length)
    problems.push('LOAD statements and SELECT tables differ in number');
  return problems;
}

t.test(
  'every script in samples/qlik has the form the REST connector generates, over tokenshim',
  async (t) => {
    t.ok(scripts.length >= 3, 'the Marketo load, a paged load and a joined-pages load');
    const dsns = await sampleDsnNames();
    for (const file of scripts) {
      const script = parseLoadScript(readFileSync(join(qlikDir, file), 'utf8'));
      t.same(problemsOf(script, dsns), [], file);
    }
  },
);

t.test('the two-step OAuth workaround is what the check refuses', async (t) => {
  const twoStep = `LIB CONNECT TO 'marketo_token';
RestConnectorMasterTable: SQL SELECT "access_token", "__KEY_root" FROM JSON (wrap on) "root" PK "__KEY_root"
WITH CONNECTION (URL "https://123-ABC-456.mktorest.com/identity/oauth/token", QUERY "grant_type" "client_credentials");
[root]: LOAD [access_token], [__KEY_root] RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__KEY_root]);
DROP TABLE RestConnectorMasterTable;`;
  t.throws(() => parseLoadScript(twoStep), /unexpected text after the SQL SELECT: WITH/);
  const withHeader = `// URL: http://127.0.0.1:8790/marketo/rest/asset/v1/programs.json
LIB CONNECT TO 'tokenshim_marketo';
RestConnectorMasterTable: SQL SELECT "id", "__KEY_root" FROM JSON (wrap on) "root" PK "__KEY_root";
LET vToken = Peek('access_token');
DROP TABLE RestConnectorMasterTable;`;
  t.throws(() => parseLoadScript(withHeader), /not a "\[table\]: LOAD/);
  const dsns = await sampleDsnNames();
  const tokenVariable = parseLoadScript(`// URL: http://127.0.0.1:8790/marketo/x
LIB CONNECT TO 'tokenshim_marketo';
RestConnectorMasterTable: SQL SELECT "access_token", "__KEY_root" FROM JSON (wrap on) "root" PK "__KEY_root";
[root]: LOAD [access_token], [__KEY_root] RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__KEY_root]);
DROP TABLE RestConnectorMasterTable;`);
  t.match(problemsOf(tokenVariable, dsns), [/token handling in the script: access_token/]);
  const unknown = parseLoadScript(`// URL: http://api.example.com/x
LIB CONNECT TO 'rest_direct';
RestConnectorMasterTable: SQL SELECT "id", "__KEY_root" FROM JSON (wrap on) "root" PK "__KEY_root";
[root]: LOAD [id], [name], [__KEY_root] RESIDENT RestConnectorMasterTable WHERE NOT IsNull([__KEY_root]);
DROP TABLE RestConnectorMasterTable;`);
  t.same(problemsOf(unknown, dsns), [
    "connection 'rest_direct' names no samples/*.ini DSN",
    "the documented connection URL http://api.example.com/x is not tokenshim's gateway for undefined",
    '[root] loads [name], which the SELECT does not name',
  ]);
});

/** Every field a table SELECTs (keys aside) is in the JSON objects at that table's path. */
function fieldsMissing(
  table: SelectedTable,
  objects: readonly Record<string, unknown>[],
): string[] {
  const missing: string[] = [];
  for (const f of table.fields) {
    if (f.name.startsWith('__')) continue;
    if (!objects.some((o) => f.name in o)) missing.push(`${table.name}.${f.name}`);
  }
  for (const child of table.children) {
    const nested = objects.flatMap((o) => {
      const v = o[child.name];
      return Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : [];
    }) as Record<string, unknown>[];
    missing.push(...fieldsMissing(child, nested));
  }
  return missing;
}

t.test(
  'marketo-programs.qvs: its connection URL through tokenshim returns every field it selects',
  async (t) => {
    const marketo = await startMarketo({ programs: 3 });
    t.teardown(() => marketo.close());
    const { dsn } = await loadSample(t, 'marketo.ini', 'marketo', {
      HostName: marketo.origin,
      TokenURI: `${marketo.origin}/identity/oauth/token`,
      ClientID: MARKETO_CLIENT.clientId,
      ClientSecret: MARKETO_CLIENT.clientSecret,
    });
    const proxy = await startSampleProxy(t, [dsn]);
    const script = parseLoadScript(readFileSync(join(qlikDir, 'marketo-programs.qvs'), 'utf8'));
    const url = /URL:\s+(\S+)/
      .exec(script.comments)![1]!
      .replace('http://127.0.0.1:8790', proxy.server.url);
    const res = await call(`${url}?maxReturn=200&offset=0`);
    t.equal(res.status, 200);
    t.same(fieldsMissing(script.root, [res.json()]), []);
    t.equal(
      marketo.requestsTo('/identity/oauth/token').length,
      1,
      'tokenshim fetched the token, not the script',
    );
  },
);

t.test(
  'github-issues-next-url.qvs: every page, reached by the rewritten next URL, has the selected fields',
  async (t) => {
    const github = await startGitHub({ issues: 3 });
    t.teardown(() => github.close());
    const { dsn } = await loadSample(t, 'github.ini', 'github', {
      HostName: github.origin,
      TokenURI: `POST ${github.origin}/login/oauth/access_token`,
      ClientID: GITHUB_CLIENT.clientId,
      ClientSecret: GITHUB_CLIENT.clientSecret,
      RefreshToken: GITHUB_CLIENT.refreshToken,
    });
    const proxy = await startSampleProxy(t, [dsn]);
    const script = parseLoadScript(
      readFileSync(join(qlikDir, 'github-issues-next-url.qvs'), 'utf8'),
    );
    const first = /URL:\s+(\S+)/
      .exec(script.comments)![1]!
      .replace('http://127.0.0.1:8790', proxy.server.url)
      .replace('OWNER/REPO', 'octo-org/octo-repo');
    let next: string | undefined = `${first}?per_page=2&state=all`;
    const items: Record<string, unknown>[] = [];
    for (let pages = 0; next !== undefined && pages < 5; pages++) {
      t.ok(next.startsWith(proxy.server.url), 'the next URL is on tokenshim');
      const res = await call(next);
      items.push(...res.json<Record<string, unknown>[]>());
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    t.equal(items.length, 3);
    t.same(fieldsMissing(script.root, items), []);
  },
);

t.test(
  'jira-projects-joined.qvs: its one URL answers every project, with every field it selects',
  async (t) => {
    const jira = await startAtlassian({ projects: 5 });
    t.teardown(() => jira.close());
    const { dsn } = await loadSample(t, 'jira.ini', 'jira', jiraSampleOverrides(jira.origin));
    const proxy = await startSampleProxy(t, [dsn]);
    const script = parseLoadScript(readFileSync(join(qlikDir, 'jira-projects-joined.qvs'), 'utf8'));
    const url = /URL:\s+(\S+)/
      .exec(script.comments)![1]!
      .replace('http://127.0.0.1:8790', proxy.server.url)
      // pages of two, so that the five projects take three of them
      .replace('maxResults=50', 'maxResults=2')
      .replace('tokenshim.size=50', 'tokenshim.size=2');
    const res = await call(url);
    t.equal(res.status, 200);
    const projects = res.json<Record<string, unknown>[]>();
    t.equal(projects.length, 5, 'every project, from three pages');
    t.same(fieldsMissing(script.root, projects), []);
    t.equal(
      jira.requestsTo(`/ex/jira/${ATLASSIAN_CLIENT.cloudId}/rest/api/3/project/search`).length,
      3,
    );
  },
);
