import { logout, type LogoutResult } from '../auth/logout/logout.js';
import { openTokenStore } from '../auth/stores/open-token-store.js';
import type { TokenStore } from '../auth/stores/token-store.js';
import type { Clock } from '../clock.js';
import type { DsnConfig } from '../config/dsn.js';
import { defineCommand, runCommand } from './command.js';
import { CONFIG_SOURCE_OPTIONS } from './config-source.js';
import { EXIT, type CliIo } from './io.js';
import { selectDsn } from './select-dsn.js';

export interface LogoutCommandDeps {
  readonly store?: TokenStore;
  readonly clock?: Clock;
}

/** `tokenshim logout <DSN>`: revoke the DSN's tokens (RFC 7009) and clear them from its store. */
export function logoutCommand(deps: LogoutCommandDeps = {}) {
  return defineCommand({
    name: 'logout',
    usage: '<DSN> [--config FILE | --connect STRING]',
    about: `
Ends a DSN's login: revokes its refresh token and then its access token at RevokeURI (RFC 7009),
and replaces them in the DSN's token store (file or Redis) with a logout entry, so that neither
this tokenshim nor another one sharing the store uses them again. A running tokenshim stops at
its next token request and answers TOKENSHIM_NEEDS_LOGIN; tokenshim login logs in again.

If the refresh token cannot be revoked, nothing is cleared (exit 1): run logout again later.
Without RevokeURI the tokens are only cleared here and stay valid at the provider until they
expire. For AuthenticationMethod 51, 54 and 56 DSNs.`,
    options: { ...CONFIG_SOURCE_OPTIONS },
    positional: 'DSN',
    exitStatus:
      '0 logged out (or nothing to log out), 1 the refresh token could not be revoked\n(nothing was cleared), 2 usage or configuration error.',
    run: async ({ values, positionals }, io) => {
      const { dsn, configPath } = await selectDsn(positionals[0], values, io);
      const store = deps.store ?? openTokenStore(dsn, configPath);
      try {
        const result = await logout(dsn, {
          store,
          env: io.env,
          ...(deps.clock ? { clock: deps.clock } : {}),
        });
        report(dsn, result, io);
        return EXIT.OK;
      } finally {
        if (!deps.store) await store.close().catch(() => undefined);
      }
    },
  });
}

export function runLogout(
  argv: string[],
  io: CliIo,
  deps: LogoutCommandDeps = {},
): Promise<number> {
  return runCommand(logoutCommand(deps), argv, io);
}

const TOKEN_NAMES = { refresh_token: 'refresh token', access_token: 'access token' } as const;

function report(dsn: DsnConfig, result: LogoutResult, io: CliIo): void {
  if (!result.hadTokens) {
    io.stdout.write(`DSN "${dsn.name}" holds no tokens in ${result.store}: nothing to log out.\n`);
    return;
  }
  const revoked = result.revocations.filter((r) => r.outcome === 'revoked');
  if (dsn.revokeUri === undefined) {
    io.stderr.write(
      'tokenshim logout: RevokeURI is not set, so the tokens were cleared here but not revoked at ' +
        'the provider: they stay valid until they expire (a refresh token may last months). Set ' +
        "RevokeURI to the provider's revocation endpoint, or revoke the access in the provider's " +
        'account settings.\n',
    );
  } else if (revoked.length > 0) {
    const names = [...new Set(revoked.map((r) => TOKEN_NAMES[r.hint]))].join(' and the ');
    io.stdout.write(
      `Revoked the ${names} at POST ${dsn.revokeUri.origin}${dsn.revokeUri.pathname}.\n`,
    );
  }
  for (const r of result.revocations) {
    if (r.outcome === 'unsupported') {
      io.stderr.write(
        `tokenshim logout: the provider does not revoke ${TOKEN_NAMES[r.hint]}s ` +
          '(unsupported_token_type): the last one stays valid until it expires.\n',
      );
    } else if (r.outcome === 'failed') {
      io.stderr.write(
        `tokenshim logout: the ${TOKEN_NAMES[r.hint]} was not revoked (${r.message}); it stays ` +
          'valid until it expires.\n',
      );
    }
  }
  io.stdout.write(
    `Logged out: the tokens of DSN "${dsn.name}" are cleared from ${result.store}.\n` +
      'A running tokenshim stops using them at its next token request (at the latest when its ' +
      'access token expires); restart it to stop at once.\n' +
      `tokenshim login ${dsn.name} logs in again.\n`,
  );
  if (dsn.refreshToken !== undefined) {
    io.stdout.write(
      `RefreshToken in [${dsn.name}] is not used again (a new value pasted there is); remove it ` +
        'from the configuration if it should not stay there.\n',
    );
  }
}
