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

/** A fresh key pair: the private half as a KeyObject (never exported), the public half as JWK. */
export function generateWithPublicJwk(
  type: KeyType,
  options: KeyOptions = {},
): { readonly privateKey: KeyObject; readonly publicJwk: JsonWebKey } {
  const pair = generateKeyPairSync(
    type as 'ec',
    {
      ...options,
      publicKeyEncoding: { format: 'jwk' },
    } as never,
  ) as unknown as { privateKey: KeyObject; publicKey: JsonWebKey };
  return { privateKey: pair.privateKey, publicJwk: pair.publicKey };
}

/** A fresh key pair with both halves as JWK. */
export function generateJwkPair(
  type: KeyType,
  options: KeyOptions = {},
): { readonly privateJwk: JsonWebKey; readonly publicJwk: JsonWebKey } {
  const pair = generateKeyPairSync(
    type as 'ec',
    {
      ...options,
      publicKeyEncoding: { format: 'jwk' },
      privateKeyEncoding: { format: 'jwk' },
    } as never,
  ) as unknown as { privateKey: JsonWebKey; publicKey: JsonWebKey };
  return { privateJwk: pair.privateKey, publicJwk: pair.publicKey };
}
