import { runCommand, system32Tool, type RunCommand } from './run-command.js';

/**
 * Windows file permissions, read and set with icacls. On Windows a file's mode bits mean nothing:
 * a config or token store under C:\ProgramData inherits that folder's ACL, which lets every local
 * user (BUILTIN\Users) read it. The checks here read `icacls FILE` output; the fix and the ACL
 * tokenshim gives the token stores it creates are built as icacls command lines. Both are plain
 * text, so they are tested anywhere with captured output through the RunCommand seam.
 */

export interface WindowsAclDeps {
  readonly platform?: NodeJS.Platform;
  readonly run?: RunCommand;
  readonly env?: NodeJS.ProcessEnv;
}

export interface AclEntry {
  readonly principal: string;
  /** icacls' parenthesised flags and rights: `I`, `OI`, `F`, `RX`, `DENY`, `RD,WD` ... */
  readonly flags: readonly string[];
}

/**
 * Well-known SIDs by which the ACL is set: names are translated (BUILTIN\Administrators is
 * VORDEFINIERT\Administratoren on a German server), SIDs are not. OWNER RIGHTS stands for the
 * file's owner, the account that created it: tokenshim's own account for a store it creates.
 */
export const OWNER_RIGHTS_SID = '*S-1-3-4';
export const SYSTEM_SID = '*S-1-5-18';
export const ADMINISTRATORS_SID = '*S-1-5-32-544';

/**
 * Principals that mean "other people": Everyone, BUILTIN\Users, Authenticated Users. icacls prints
 * names in the system's language; English, German and French names are known, and SIDs match
 * when icacls cannot name them.
 */
const BROAD_PRINCIPALS: readonly RegExp[] = [
  /^(?:Everyone|Jeder|Tout le monde|\*?S-1-1-0)$/i,
  /^(?:BUILTIN\\Users|VORDEFINIERT\\Benutzer|BUILTIN\\Utilisateurs|\*?S-1-5-32-545)$/i,
  /^(?:NT AUTHORITY\\Authenticated Users|NT-AUTORITÄT\\Authentifizierte Benutzer|AUTORITE NT\\Utilisateurs authentifiés|\*?S-1-5-11)$/i,
];

/** icacls rights that include reading the file's data */
const READ_RIGHTS = new Set(['F', 'M', 'RX', 'R', 'RD', 'GR', 'GA', 'MA', 'GE']);

/**
 * `icacls FILE` output: the first line starts with the path, every entry is
 * `PRINCIPAL:(flag)(flag)...`, and a localized summary line ends it.
 */
export function parseIcacls(output: string, path: string): AclEntry[] {
  const entries: AclEntry[] = [];
  for (const raw of output.split(/\r?\n/)) {
    let line = raw.trim();
    if (line.toLowerCase().startsWith(path.toLowerCase())) line = line.slice(path.length).trim();
    const m = /^(.+?):((?:\([^()]*\))+)$/.exec(line);
    if (!m) continue;
    const flags = [...m[2]!.matchAll(/\(([^()]*)\)/g)].flatMap((f) => f[1]!.split(','));
    entries.push({ principal: m[1]!.trim(), flags });
  }
  return entries;
}

/** The entries that let everyone, every local user or every signed-in user read the file. */
export function broadReadAccess(entries: readonly AclEntry[]): AclEntry[] {
  return entries.filter(
    (e) =>
      BROAD_PRINCIPALS.some((p) => p.test(e.principal)) &&
      !e.flags.includes('DENY') &&
      // inherit-only entries apply to a folder's children, not to the folder itself
      !e.flags.includes('IO') &&
      e.flags.some((f) => READ_RIGHTS.has(f)),
  );
}

/** icacls arguments that leave only the owner, SYSTEM and Administrators, inheritance off. */
export function ownerOnlyAclArgs(path: string): string[] {
  return [
    path,
    '/inheritance:r',
    '/grant:r',
    `${OWNER_RIGHTS_SID}:(F)`,
    `${SYSTEM_SID}:(F)`,
    `${ADMINISTRATORS_SID}:(F)`,
  ];
}

/** The same as a command a user pastes into cmd or PowerShell. */
export function ownerOnlyAclCommand(path: string): string {
  return `icacls ${ownerOnlyAclArgs(path)
    .map((a, i) => (i === 0 || a.includes(':(') ? `"${a}"` : a))
    .join(' ')}`;
}

/**
 * Who else may read the file, as a sentence, or undefined when nobody else may (or this is not
 * Windows: there the mode bits are checked instead). A file icacls cannot read is left to the
 * code that reads it.
 */
export async function describeBroadReadAccess(
  path: string,
  deps: WindowsAclDeps = {},
): Promise<string | undefined> {
  if ((deps.platform ?? process.platform) !== 'win32') return undefined;
  const env = deps.env ?? process.env;
  let result;
  try {
    result = await (deps.run ?? runCommand)(system32Tool('icacls.exe', env), [path]);
  } catch {
    return undefined;
  }
  if (result.code !== 0) return undefined;
  const broad = broadReadAccess(parseIcacls(result.stdout.toString('utf8'), path));
  if (broad.length === 0) return undefined;
  return `readable by ${broad.map((e) => e.principal).join(', ')}`;
}

/** Gives a file tokenshim created the owner-only ACL; throws when icacls refuses. */
export async function restrictToOwner(path: string, deps: WindowsAclDeps = {}): Promise<void> {
  if ((deps.platform ?? process.platform) !== 'win32') return;
  const env = deps.env ?? process.env;
  const result = await (deps.run ?? runCommand)(
    system32Tool('icacls.exe', env),
    ownerOnlyAclArgs(path),
  );
  if (result.code !== 0) {
    throw new Error(
      `icacls could not restrict ${path} to its owner, SYSTEM and Administrators (exit code ${result.code}: ${result.stderr.toString('utf8').trim() || result.stdout.toString('utf8').trim()})`,
    );
  }
}
