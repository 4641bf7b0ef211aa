/**
 * Key generation with JWK encodings made by the generation itself (node only). On Node 20 a JWK export of a
 * freshly generated KeyObject can deadlock its thread: a garbage collection inside the export runs the
 * generation job's finalizer, which waits for the key's mutex the export holds (gdb: `ExportJWKEdKey` → GC →
 * `~KeyGenJob` → `uv_mutex_lock`). Encodings asked of `generateKeyPairSync` are made inside the job, before
 * it returns, so no KeyObject of a fresh key is ever exported afterwards.
 * (@types/node has no overloads for JWK encodings; Node returns plain JWK objects for them.)
 */
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';

type KeyType = 'x25519' | 'ed25519' | 'ec';
interface KeyOptions {
  readonly namedCurve?: string;
}

// One generation with the requested encodings (see above); the halves asked for as JWK come back as JWK.
function generate(type: KeyType, options: KeyOptions, privateAsJwk: boolean) {
  const encodings = privateAsJwk
    ? { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { format: 'jwk' } }
    : { publicKeyEncoding: { format: 'jwk' } };
  return generateKeyPairSync(type as 'ec', { ...options, ...encodings } as never) as unknown as {
    privateKey: unknown;
    publicKey: JsonWebKey;
  };
}

/** A fresh key pair: the private half as a KeyObject (never exported), the public half as JWK. */
export function generateWithPublicJwk(
  type: KeyType,
  options: KeyOptions = {},
): { readonly privateKey: KeyObject; readonly publicJwk: JsonWebKey } {
  const pair = generate(type, options, false);
  return { privateKey: pair.privateKey as KeyObject, publicJwk: pair.publicKey };
}

/** A fresh key pair with both halves as JWK. */
export function generateJwkPair(
  type: KeyType,
  options: KeyOptions = {},
): { readonly privateJwk: JsonWebKey; readonly publicJwk: JsonWebKey } {
  const pair = generate(type, options, true);
  return { privateJwk: pair.privateKey as JsonWebKey, publicJwk: pair.publicKey };
}
