import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DsnConfig } from '../../config/dsn.js';
import { ConfigError } from '../../errors.js';
import type { Grant } from './grant.js';

export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Assertions are minted per request and live just long enough to be redeemed. */
const ASSERTION_LIFETIME_SECONDS = 300;

/**
 * RFC 7523 2.1 (AuthenticationMethod=55): a JWT signed with the key of JWTCertStore (PKCS#12, as
 * DataDirect takes it) or JWTPrivateKeyFile (PEM), `iss` ClaimsIssuer,
 * `sub` ClaimsSubject (both default to ClientID), `aud` the token endpoint (RFC 7523 3, item 3).
 */
export function jwtBearerGrant(): Grant {
  let key: Promise<KeyObject> | undefined;
  return {
    grantType: JWT_BEARER_GRANT_TYPE,
    params: async ({ dsn, clock }) => {
      key ??= loadSigningKey(dsn);
      // this request's key: a failed load clears `key` for the next one while this one awaits
      const signingKey = key;
      signingKey.catch(() => (key = undefined));
      const issuer = dsn.claimsIssuer ?? dsn.clientId;
      const subject = dsn.claimsSubject ?? dsn.clientId;
      if (!issuer || !subject || !dsn.tokenEndpoint) {
        throw new ConfigError(
          `DSN "${dsn.name}": the JWT bearer grant (AuthenticationMethod=55) needs ClaimsIssuer and ClaimsSubject (or ClientID) and TokenURI.`,
        );
      }
      const now = Math.floor(clock.now() / 1000);
      const audience = `${dsn.tokenEndpoint.url.origin}${dsn.tokenEndpoint.url.pathname}`;
      let assertion: string;
      try {
        // loaded when a method-55 DSN first signs: jose's signing modules are ~8 MB of RSS that
        // every other serve would carry for nothing
        const { SignJWT } = await import('jose/jwt/sign');
        assertion = await new SignJWT({})
          .setProtectedHeader({ alg: dsn.jwtAlgorithm, typ: 'JWT' })
          .setIssuer(issuer)
          .setSubject(subject)
          .setAudience(audience)
          .setIssuedAt(now)
          .setNotBefore(now)
          .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
          .setJti(randomUUID())
          .sign(await signingKey);
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        throw new ConfigError(
          `DSN "${dsn.name}": cannot sign the JWT assertion with JWTAlgorithm=${dsn.jwtAlgorithm} and the key in ` +
            `${keyOption(dsn)} (${(e as Error).message}). Use an algorithm that matches the key (RS256 for RSA, ES256 for P-256).`,
        );
      }
      return [
        ['grant_type', JWT_BEARER_GRANT_TYPE],
        ['assertion', assertion],
      ];
    },
  };
}

function keyOption(dsn: DsnConfig): string {
  return dsn.jwtCertStore === undefined ? 'JWTPrivateKeyFile' : 'JWTCertStore';
}

async function loadSigningKey(dsn: DsnConfig): Promise<KeyObject> {
  if (dsn.jwtCertStore !== undefined) {
    // node-forge (~12 MB of RSS) loads only for a DSN that has a PKCS#12 file
    const { loadPkcs12Key } = await import('./pkcs12-key.js');
    const p12 = await loadPkcs12Key({
      dsn: dsn.name,
      file: dsn.jwtCertStore,
      ...(dsn.jwtCertPassword === undefined ? {} : { password: dsn.jwtCertPassword }),
      ...(dsn.jwtCertAlias === undefined ? {} : { alias: dsn.jwtCertAlias }),
    });
    return p12.privateKey;
  }
  const file = dsn.jwtPrivateKeyFile;
  if (!file) {
    throw new ConfigError(
      `DSN "${dsn.name}": AuthenticationMethod=55 needs JWTCertStore (a PKCS#12 file) or JWTPrivateKeyFile (a PEM private key).`,
    );
  }
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `DSN "${dsn.name}": JWTPrivateKeyFile ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`,
    );
  }
  try {
    // PKCS#8, PKCS#1 and SEC1 PEMs alike, which jose's importPKCS8 alone would not take
    return createPrivateKey(pem);
  } catch {
    throw new ConfigError(
      `DSN "${dsn.name}": JWTPrivateKeyFile ${file} holds no PEM private key ("-----BEGIN PRIVATE KEY-----"); ` +
        'export the key unencrypted in PEM form.',
    );
  }
}
