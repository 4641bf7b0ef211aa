/** Throw-away signing keys as JWKs (Ed25519 and ECDSA P-256) for release-record and log tests. */
import { generateKeyPairSync } from 'node:crypto';
import type { ReleasePredicate } from '../../src/measure/release.js';

export function privateJwk(kind: 'ed25519' | 'p256'): JsonWebKey {
  const pair =
    kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey.export({ format: 'jwk' }) as JsonWebKey;
}

/** A release predicate for tests. */
export const PREDICATE: ReleasePredicate = {
  repository: 'https://github.com/example/enclave-app',
  commit: 'a'.repeat(40),
  buildRecipe: {
    digest: { sha256: 'b'.repeat(64) },
    uri: 'https://github.com/example/enclave-app/blob/main/Dockerfile',
  },
  measurements: {
    nitro: { pcr0: '1'.repeat(96), pcr1: '2'.repeat(96), pcr2: '3'.repeat(96) },
    tdx: { mrtd: '4'.repeat(96), rtmr3: '5'.repeat(96) },
  },
};
