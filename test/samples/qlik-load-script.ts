/**
 * Reads a Qlik load script far enough to check it has the form Qlik's REST connector generates:
 * `LIB CONNECT TO`, one `RestConnectorMasterTable: SQL SELECT ... FROM JSON (wrap on) "root"
 * PK "__KEY_root"` with nested SELECTs keyed by `__KEY_<table>`/`__FK_<table>`, one LOAD per table
 * from `RESIDENT RestConnectorMasterTable`, and `DROP TABLE RestConnectorMasterTable`.
 */

export interface SelectedTable {
  readonly name: string;
  readonly pk?: string;
  readonly fk?: string;
  /** source names as in the JSON (`type`), with the alias the script gives (`type_u0`) */
  readonly fields: readonly { readonly name: string; readonly alias: string }[];
  readonly children: readonly SelectedTable[];
  /** `JSON (wrap on)` on the outermost SELECT */
  readonly from?: string;
}

export interface LoadStatement {
  readonly label: string;
  /** `[source] AS [alias]` pairs */
  readonly fields: readonly { readonly source: string; readonly alias: string }[];
  readonly resident: string;
  /** the field of `WHERE NOT IsNull([field])` */
  readonly notNull: string;
}

export interface LoadScript {
  /** the script without comments */
  readonly code: string;
  /** the comments, for the connection settings they document */
  readonly comments: string;
  readonly connection: string;
  readonly masterLabel: string;
  readonly root: SelectedTable;
  readonly loads: readonly LoadStatement[];
  readonly dropped: string;
  readonly statements: readonly string[];
}

type Token = { kind: 'dq' | 'sq' | 'br' | 'word' | 'punct'; text: string };

export function parseLoadScript(text: string): LoadScript {
  const { code, comments } = splitComments(text);
  const statements = splitStatements(code);
  const [connect, master, ...rest] = statements;
  const drop = rest.pop();

  const c = /^LIB\s+CONNECT\s+TO\s+'([^']+)'$/i.exec(connect ?? '');
  if (!c)
    throw new Error(`the script does not start with LIB CONNECT TO '<connection>': ${connect}`);

  const m = /^(\w+):\s*SQL\s+(SELECT[\s\S]*)$/i.exec(master ?? '');
  if (!m)
    throw new Error(
      `the second statement is not "<label>: SQL SELECT ...": ${master?.slice(0, 60)}`,
    );
  const tokens = tokenize(m[2]!);
  const reader = { tokens, i: 0 };
  const root = readSelect(reader, true);
  if (reader.i !== tokens.length)
    throw new Error(`unexpected text after the SQL SELECT: ${tokens[reader.i]?.text}`);

  const d = /^DROP\s+TABLE\s+(\w+)$/i.exec(drop ?? '');
  if (!d) throw new Error(`the script does not end with DROP TABLE: ${drop}`);

  return {
    code,
    comments,
    connection: c[1]!,
    masterLabel: m[1]!,
    root,
    loads: rest.map(readLoad),
    dropped: d[1]!,
    statements,
  };
}

function readLoad(statement: string): LoadStatement {
  const m =
    /^\[([^\]]+)\]:\s*LOAD\s+([\s\S]+?)\s+RESIDENT\s+(\w+)\s+WHERE\s+NOT\s+IsNull\(\s*\[([^\]]+)\]\s*\)$/i.exec(
      statement,
    );
  if (!m)
    throw new Error(
      `not a "[table]: LOAD ... RESIDENT ... WHERE NOT IsNull([key])" statement: ${statement.slice(0, 80)}`,
    );
  const fields = m[2]!.split(',').map((f) => {
    const a = /^\s*\[([^\]]+)\](?:\s+AS\s+\[([^\]]+)\])?\s*$/i.exec(f);
    if (!a) throw new Error(`LOAD field "${f.trim()}" is not [name] or [name] AS [alias]`);
    return { source: a[1]!, alias: a[2] ?? a[1]! };
  });
  return { label: m[1]!, fields, resident: m[3]!, notNull: m[4]! };
}

function readSelect(r: { tokens: Token[]; i: number }, outermost: boolean): SelectedTable {
  expectWord(r, 'SELECT');
  const fields: { name: string; alias: string }[] = [];
  const children: SelectedTable[] = [];
  for (;;) {
    const t = r.tokens[r.i];
    if (t?.kind === 'punct' && t.text === '(') {
      r.i++;
      children.push(readSelect(r, false));
      expectPunct(r, ')');
    } else if (t?.kind === 'dq') {
      r.i++;
      let alias = t.text;
      if (isWord(r.tokens[r.i], 'AS')) {
        r.i++;
        alias = expectKind(r, 'dq');
      }
      fields.push({ name: t.text, alias });
    } else {
      throw new Error(`unexpected "${t?.text}" in a SELECT field list`);
    }
    if (r.tokens[r.i]?.kind === 'punct' && r.tokens[r.i]!.text === ',') {
      r.i++;
      continue;
    }
    break;
  }
  expectWord(r, 'FROM');
  let from: string | undefined;
  if (outermost) {
    expectWord(r, 'JSON');
    expectPunct(r, '(');
    const opts: string[] = [];
    while (r.tokens[r.i] && r.tokens[r.i]!.text !== ')') opts.push(r.tokens[r.i++]!.text);
    expectPunct(r, ')');
    from = `JSON (${opts.join(' ')})`;
  }
  const name = expectKind(r, 'dq');
  let pk: string | undefined;
  let fk: string | undefined;
  for (;;) {
    if (isWord(r.tokens[r.i], 'PK')) {
      r.i++;
      pk = expectKind(r, 'dq');
    } else if (isWord(r.tokens[r.i], 'FK')) {
      r.i++;
      fk = expectKind(r, 'dq');
    } else break;
  }
  return {
    name,
    fields,
    children,
    ...(pk ? { pk } : {}),
    ...(fk ? { fk } : {}),
    ...(from ? { from } : {}),
  };
}

function isWord(t: Token | undefined, word: string): boolean {
  return t?.kind === 'word' && t.text.toUpperCase() === word;
}

function expectWord(r: { tokens: Token[]; i: number }, word: string): void {
  if (!isWord(r.tokens[r.i], word))
    throw new Error(`expected ${word}, found "${r.tokens[r.i]?.text}"`);
  r.i++;
}

function expectPunct(r: { tokens: Token[]; i: number }, p: string): void {
  const t = r.tokens[r.i];
  if (t?.kind !== 'punct' || t.text !== p) throw new Error(`expected "${p}", found "${t?.text}"`);
  r.i++;
}

function expectKind(r: { tokens: Token[]; i: number }, kind: Token['kind']): string {
  const t = r.tokens[r.i];
  if (t?.kind !== kind) throw new Error(`expected a ${kind} token, found "${t?.text}"`);
  r.i++;
  return t.text;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '[') {
      const close = c === '[' ? ']' : c;
      const end = text.indexOf(close, i + 1);
      if (end === -1) throw new Error(`unclosed ${c}`);
      tokens.push({
        kind: c === '"' ? 'dq' : c === "'" ? 'sq' : 'br',
        text: text.slice(i + 1, end),
      });
      i = end + 1;
    } else if ('(),:'.includes(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else {
      const m = /^[^\s"'[(),:]+/.exec(text.slice(i))!;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** `//` line comments and `/* *\/` blocks, outside quotes and brackets. */
function splitComments(text: string): { code: string; comments: string } {
  let code = '';
  let comments = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === '[') {
      const close = c === '[' ? ']' : c;
      const end = text.indexOf(close, i + 1);
      const stop = end === -1 ? text.length : end + 1;
      code += text.slice(i, stop);
      i = stop;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      comments += `${text.slice(i + 2, stop)}\n`;
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i);
      const stop = end === -1 ? text.length : end + 2;
      comments += `${text.slice(i + 2, stop - 2)}\n`;
      i = stop;
    } else {
      code += c;
      i++;
    }
  }
  return { code, comments };
}

/** Statements end at `;` outside quotes, brackets and parentheses. */
function splitStatements(code: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === '"' || c === "'" || c === '[') {
      const close = c === '[' ? ']' : c;
      const end = code.indexOf(close, i + 1);
      current += code.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ';' && depth === 0) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim() !== '')
    throw new Error(`the last statement has no ";": ${current.trim().slice(0, 60)}`);
  return out;
}

/** Every table of the SELECT tree, with its parent's name. */
export function flattenTables(
  root: SelectedTable,
): { table: SelectedTable; parent?: SelectedTable }[] {
  const out: { table: SelectedTable; parent?: SelectedTable }[] = [{ table: root }];
  const walk = (t: SelectedTable): void => {
    for (const child of t.children) {
      out.push({ table: child, parent: t });
      walk(child);
    }
  };
  walk(root);
  return out;
}
