/**
 * Release-signing keys: the public keys a `releases` policy trusts and release records are verified with.
 * Apart from `release.ts` so a policy naming them can be loaded without the release-record code.
 */
import { backend } from '#crypto';
import { toHex } from '../bytes.js';
import type { PublicKey, SignatureScheme } from '../crypto/types.js';
import { ErrorCode, VeriteeError, wrapErrors } from '../errors.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface TrustedKey {
  readonly keyid: string;
  readonly key: PublicKey;
}

/** The signature scheme of a release key; throws for key types release records do not use. */
export function releaseKeyScheme(key: PublicKey): SignatureScheme {
  if (key.type === 'ed25519') return { kind: 'ed25519' };
  if (key.type === 'ec' && key.curve === 'P-256') return { kind: 'ecdsa', hash: 'SHA-256', encoding: 'der' };
  throw new VeriteeError(ErrorCode.SIG_ALGORITHM_UNSUPPORTED, 'release keys must be Ed25519 or ECDSA P-256');
}

/** `sha256:` + hex SHA-256 of the SubjectPublicKeyInfo. */
export function keyIdOf(key: PublicKey): string {
  return `sha256:${toHex(backend.hash('SHA-256', key.spki))}`;
}

/** Imports a public JWK (Ed25519 or P-256) as a trusted release key. */
export function trustedKeyFromJwk(jwk: unknown, path = 'key'): TrustedKey {
  if (!isObject(jwk)) throw new VeriteeError(ErrorCode.KEY_INVALID, 'key must be a JWK object', { path });
  if ('d' in jwk)
    throw new VeriteeError(ErrorCode.KEY_INVALID, 'expected a public JWK, got a private one', { path });
  const key = wrapErrors(
    ErrorCode.KEY_INVALID,
    'unusable public key',
    () => backend.importJwk(jwk as JsonWebKey),
    path,
  );
  releaseKeyScheme(key);
  return { keyid: keyIdOf(key), key };
}
