import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636: the secret the client keeps (code_verifier) and what it shows first (code_challenge). */
export interface PkcePair {
  readonly verifier: string;
  readonly challenge: string;
  readonly method: 'S256';
}

/**
 * RFC 7636 4.1: 32 random octets, base64url-encoded, give a 43-character verifier of unreserved
 * characters; 4.2: S256 is BASE64URL(SHA256(ASCII(code_verifier))). `plain` is never offered: a
 * client that can do SHA-256 MUST use S256 (4.2).
 */
export function createPkcePair(random: (n: number) => Buffer = randomBytes): PkcePair {
  const verifier = random(32).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier), method: 'S256' };
}

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 6749 10.12: an unguessable `state` binds the redirect to this login attempt (CSRF). */
export function createState(random: (n: number) => Buffer = randomBytes): string {
  return random(24).toString('base64url');
}
