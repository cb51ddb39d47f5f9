import t from 'tap';
import { parseModelFile, readModelFile } from '../../lib/config/model-file.js';
import type { ConfigProblem } from '../../lib/config/problems.js';
import { tempDir } from '../fixtures/temp-config.js';

function parse(text: string) {
  const problems: ConfigProblem[] = [];
  const model = parseModelFile(text, 'api.rest', problems);
  return { model, problems };
}

t.test('simple table-endpoint pairs, with a json root after the path', async (t) => {
  // the shape of DataDirect's "Configuring the relational map" example
  const { model, problems } = parse(`{
    "countries": "https://example.com/countries/",
    "regions": "https://example.com/regions results/items",
    "people": "https://people.example.org:8443/v1/people"
  }`);
  t.same(problems, []);
  t.same(model?.origins, ['https://example.com', 'https://people.example.org:8443']);
  t.same(model?.headers, []);
  t.match(model?.ignored, [{ key: 'tables', why: /3 table definition/ }]);
});

t.test('table objects: #path (string or list, with methods), paging, #headers', async (t) => {
  // DataDirect's "Paging" and "Requests with custom HTTP headers" entries, combined
  const { model, problems } = parse(`{
    "#headers": { "Accept": "application/json", "X-Api-Version": 2 },
    "issues": {
      "#path": ["IDENTITY https://jira.example.net/rest/api/2/issue/{id}", "https://jira.example.net/rest/api/2/search /issues"],
      "#firstRowNumber": 1,
      "#maximumPageSize": 1000,
      "#pageSizeParameter": "maxResults",
      "#rowOffsetParameter": "startAt"
    },
    "reports": {
      "#path": "POST https://reports.example.net/v1/run",
      "#post": { "kind": "all" },
      "#headers": { "X-Filter": "{region}" }
    }
  }`);
  t.same(problems, []);
  t.same(model?.origins, ['https://jira.example.net', 'https://reports.example.net']);
  t.same(model?.headers, [
    ['Accept', 'application/json'],
    ['X-Api-Version', '2'],
  ]);
  t.match(model?.ignored, [
    { key: 'tables', why: /2 table definition/ },
    { key: '#headers of a table', why: /\(reports\): move a header to the top-level #headers/ },
  ]);
});

t.test('#hostname with relative paths, #options and OAuth entries, // comments', async (t) => {
  // the layout of Progress's reference Model file, and the Model file's OAuth 2.0 entries
  const { model, problems } = parse(`// Marketo, hand edited
{
  "#hostname": "https://123-abc-456.mktorest.com",
  "#options": {
    "authenticationmethod": {"choices": "OAuth2,BearerToken", "default": "OAuth2"},
    "tokenURI": "/identity/oauth/token",
    "scope": "read write",
    "somethingElse": 1
  },
  "#tokenUri": "https://123-abc-456.mktorest.com/identity/oauth/token",
  "#http": [{"#code": 401, "#action": "REAUTHENTICATE"}, {"#code": 429, "#action": "RETRY_AFTER"}],
  "#authentication": ["POST https://auth.example.com/login"],
  "#version": "v1",
  "leads": {"#path": ["/rest/v1/leads.json /result"], "#insert": "POST /rest/v1/leads.json"},
  "files": "https://files.example.com/v1/files", // a second host
  "routines": [],
}`);
  t.same(problems, []);
  t.equal(model?.hostname, 'https://123-abc-456.mktorest.com');
  t.same(model?.origins, ['https://123-abc-456.mktorest.com', 'https://files.example.com']);
  t.same(Object.fromEntries(model?.oauth ?? []), {
    authenticationmethod: 'OAuth2',
    tokenuri: 'https://123-abc-456.mktorest.com/identity/oauth/token',
    scope: 'read write',
  });
  t.same(
    model?.ignored.map((i) => i.key),
    ['#options.somethingElse', '#http', '#authentication', '#version', 'routines', 'tables'],
    'each ignored entry once',
  );
  t.match(model?.ignored.find((i) => i.key === '#http')?.why, /RefreshOnStatus/);
});

t.test('a header value with a {placeholder} is left out and said so', async (t) => {
  const { model } = parse(
    '{"#headers": {"X-Tenant": "{tenant}", "Accept": "text/csv"}, "t": "https://a.example/x"}',
  );
  t.same(model?.headers, [['Accept', 'text/csv']]);
  t.match(model?.ignored, [{ key: '#headers.X-Tenant', why: /placeholder/ }]);
});

t.test('errors name the file, the line and the key', async (t) => {
  t.match(parse('{\n  "a": "https://a.example/x"\n  "b": "https://b.example/y"\n}').problems, [
    { severity: 'error', source: 'api.rest', line: 3, message: /not valid JSON \(CommaExpected\)/ },
  ]);
  t.match(parse('["https://a.example"]').problems, [{ line: 1, message: /not a JSON object/ }]);
  const { problems } = parse(`{
  "n": 42,
  "p": {"#path": [1]},
  "u": "https://[::1/x",
  "h": "https://{tenant}.example.com/x",
  "#hostname": 7,
  "#headers": {"Bad Name": "x", "X-Obj": {"a": 1}}
}`);
  t.match(problems, [
    { line: 2, key: 'n', message: /neither an endpoint string nor an object with #path/ },
    { line: 3, key: 'p', message: /#path of the table "p" is not an endpoint string/ },
    { line: 4, key: 'u', message: /"https:\/\/\[::1\/x" is not a URL/ },
    { line: 5, key: 'h', message: /holds a placeholder/ },
    { line: 6, key: '#hostname', message: /not a string/ },
    { line: 7, key: '#headers.Bad Name', message: /not an HTTP header name/ },
    { line: 7, key: '#headers.X-Obj', message: /is not text/ },
  ]);
});

t.test('readModelFile reads the file, and names it when it cannot', async (t) => {
  const { write } = tempDir(t);
  const path = write(
    'ga.rest',
    '\uFEFF{"report": "https://analyticsreporting.googleapis.com/v4/reports:batchGet"}',
  );
  const problems: ConfigProblem[] = [];
  t.same((await readModelFile(path, problems))?.origins, [
    'https://analyticsreporting.googleapis.com',
  ]);
  t.same(problems, []);
  await readModelFile('C:/path/to/googleanalytics.rest', problems);
  t.match(problems, [
    {
      source: 'C:/path/to/googleanalytics.rest',
      message: /cannot be read \(ENOENT\)/,
      fix: /RestConfigFile/,
    },
  ]);
});
