/**
 * The one place @peculiar/x509 is loaded. It builds certificates on top of WebCrypto, so signing
 * runs in node's native crypto (ECDSA P-256 included), which node-forge cannot do (RSA only, in
 * pure JavaScript). Its dependency injection container (tsyringe) needs the Reflect metadata
 * polyfill loaded first, hence the side-effect import.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };

/** ECDSA over P-256 with SHA-256: quick to generate and sign, accepted by every TLS client. */
export const SIGNING_ALGORITHM = Object.freeze({
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
}) as webcrypto.EcKeyGenParams & webcrypto.EcdsaParams;

export async function generateSigningKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(SIGNING_ALGORITHM, true, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>;
}

/** A positive random serial of 16 bytes (RFC 5280 4.1.2.2 allows up to 20). */
export function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return Buffer.from(bytes).toString('hex');
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function privateKeyFromPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, SIGNING_ALGORITHM, true, [
    'sign',
  ]) as Promise<CryptoKey>;
}
