import type { CredentialProvider } from '../auth/credential.js';
import { createCredentialProvider, type CredentialProviderDeps } from '../auth/provider.js';
import type { DsnConfig } from '../config/dsn.js';
import { NoAccessTokenError } from '../errors.js';
import { defineCommand, runCommand } from './command.js';
import { CONFIG_SOURCE_OPTIONS } from './config-source.js';
import { EXIT, UsageError, type CliIo } from './io.js';
import { selectDsn } from './select-dsn.js';

export interface TokenCommandDeps {
  /** default lib/auth/provider.ts createCredentialProvider */
  readonly createProvider?: (dsn: DsnConfig, deps: CredentialProviderDeps) => CredentialProvider;
}

/** `tokenshim token <DSN>`: a valid access token on stdout and nothing else, for scripts. */
export function tokenCommand(deps: TokenCommandDeps = {}) {
  return defineCommand({
    name: 'token',
    usage: '<DSN> [--force] [--config FILE | --connect STRING] [--user NAME]',
    about: `
Prints a valid access token for the DSN and nothing else on stdout, for scripts
(like gcloud auth print-access-token):

  curl -H "Authorization: Bearer $(tokenshim token crm)" https://api.example.com/...

The token comes from the DSN's token store when it is still valid, else from the token endpoint
(a rotated refresh token is saved first, so a running tokenshim keeps working).

With --force a new token is fetched although the stored one is still valid (an API that rejects
a token tokenshim cannot tell is dead, such as Marketo's error 601 inside a 200 answer). A running
tokenshim sharing the token store uses the new token at once; POST /_tokenshim/refresh/<DSN> does
the same through the running proxy.`,
    options: {
      ...CONFIG_SOURCE_OPTIONS,
      force: {
        type: 'boolean',
        default: false,
        help: 'replace the token now, even a valid one (the rotated refresh token is saved first)',
      },
      user: {
        type: 'string',
        value: 'NAME',
        help: 'the user, for DSNs that issue one token per user (TokenParams with {user})',
      },
    },
    positional: 'DSN',
    exitStatus:
      '0 printed, 1 no token could be had (the reason is on stderr), 2 usage or configuration error.',
    run: async ({ values, positionals }, io) => {
      const { dsn, configPath } = await selectDsn(positionals[0], values, io);
      const create = deps.createProvider ?? createCredentialProvider;
      const provider = create(dsn, configPath === undefined ? {} : { configPath });
      try {
        if (provider.perUser && values.user === undefined) {
          throw new UsageError(
            `DSN "${dsn.name}" issues one token per user (its TokenParams use {user}): pass --user NAME`,
          );
        }
        const request = values.user === undefined ? {} : { user: values.user };
        const credential = values.force
          ? await provider.forceRefresh(request)
          : await provider.credential(request);
        const token = credential.accessToken ?? staticAccessToken(dsn);
        if (token === undefined) throw new NoAccessTokenError(dsn.name, dsn.effectiveMethod);
        io.stdout.write(`${token}\n`);
        return EXIT.OK;
      } finally {
        await provider.close();
      }
    },
  });
}

export function runToken(argv: string[], io: CliIo, deps: TokenCommandDeps = {}): Promise<number> {
  return runCommand(tokenCommand(deps), argv, io);
}

/** Static bearer credentials (34 SecurityToken, 50 AccessToken) are access tokens too. */
function staticAccessToken(dsn: DsnConfig): string | undefined {
  switch (dsn.effectiveMethod.code) {
    case 34:
      return dsn.securityToken;
    case 50:
    case 24:
      return dsn.accessToken;
    default:
      return undefined;
  }
}
