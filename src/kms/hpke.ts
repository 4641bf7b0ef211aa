/**
 * HPKE (RFC 9180) for the KMS: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM.
 *
 * The protocol — DHKEM's encap/decap, the labelled extract/expand, the key schedule and the AEAD
 * context — is `@hpke/core`'s and `@hpke/common`'s. Only the primitives under it are swapped:
 *
 * - X25519 comes from the `#crypto` backend: node:crypto on Node (its key objects cached per key array),
 *   `@noble/curves` in browsers. `@hpke/core`'s own X25519 runs every key import, export and DH as a
 *   separate WebCrypto job, which costs more than the scalar multiplications themselves on Node 20.
 * - HKDF-SHA256 extract and expand come from `@noble/hashes` (synchronous) instead of one WebCrypto
 *   HMAC import and sign per step.
 * - AES-128-GCM comes from the `#crypto` backend (node:crypto, `@noble/ciphers`) instead of a WebCrypto
 *   import and an encrypt job, whose thread-pool round trip costs more than the cipher on 33 bytes.
 *
 * The RFC's test vectors pin the result (test/kms/hpke.test.ts), beside `@hpke/core`'s stock suite.
 */

import type { AeadEncryptionContext, AeadInterface } from '@hpke/common';
import { Dhkem, toArrayBuffer, XCurveDhkemPrimitives } from '@hpke/common';
import { AeadId, CipherSuite, HkdfSha256, InvalidParamError, KemId } from '@hpke/core';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { backend } from '#crypto';

const HASH_BYTES = 32;
const X25519_BYTES = 32;

/** HKDF-SHA256 with @hpke's labelling and checks, on @noble/hashes' synchronous extract and expand. */
class SyncHkdfSha256 extends HkdfSha256 {
  override async extract(salt: ArrayBuffer, ikm: ArrayBuffer): Promise<ArrayBuffer> {
    // RFC 9180 §4: an empty salt means HashLen zero bytes; any other salt must be HashLen bytes.
    const saltBytes =
      salt.byteLength === 0 ? new Uint8Array(HASH_BYTES) : new Uint8Array(toArrayBuffer(salt));
    if (saltBytes.length !== HASH_BYTES) {
      throw new InvalidParamError('The salt length must be the same as the hashSize');
    }
    return toArrayBuffer(extract(sha256, new Uint8Array(toArrayBuffer(ikm)), saltBytes));
  }

  override async expand(prk: ArrayBuffer, info: ArrayBuffer, length: number): Promise<ArrayBuffer> {
    return toArrayBuffer(
      expand(sha256, new Uint8Array(toArrayBuffer(prk)), new Uint8Array(toArrayBuffer(info)), length),
    );
  }

  override async extractAndExpand(
    salt: ArrayBuffer,
    ikm: ArrayBuffer,
    info: ArrayBuffer,
    length: number,
  ): Promise<ArrayBuffer> {
    return this.expand(await this.extract(salt, ikm), info, length);
  }
}

/** `bytes` itself when it spans its whole buffer, else a copy: @hpke/common serialises keys as `.buffer`. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * X25519 on the `#crypto` backend, in the shape @hpke/common's Montgomery-curve primitives call. A
 * generated key's public half is remembered, so encapsulation does not derive it a second time.
 */
function backendX25519() {
  const publicOf = new WeakMap<Uint8Array, Uint8Array>();
  return {
    utils: {
      randomSecretKey: async (): Promise<Uint8Array> => {
        const pair = backend.x25519Generate();
        const privateKey = ownBuffer(pair.privateKey);
        publicOf.set(privateKey, pair.publicKey);
        return privateKey;
      },
    },
    getPublicKey: (secretKey: Uint8Array): Uint8Array =>
      ownBuffer(publicOf.get(secretKey) ?? backend.x25519PublicKey(secretKey)),
    // Throws for an all-zero result (a low-order public key), which RFC 9180 §7.1.4 requires refusing.
    getSharedSecret: (secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array =>
      ownBuffer(backend.x25519(secretKey, publicKey)),
  };
}

/** DHKEM(X25519, HKDF-SHA256), KEM id 0x0020. */
class BackendDhkemX25519HkdfSha256 extends Dhkem {
  override readonly id = KemId.DhkemX25519HkdfSha256;
  override readonly secretSize = HASH_BYTES;
  override readonly encSize = X25519_BYTES;
  override readonly publicKeySize = X25519_BYTES;
  override readonly privateKeySize = X25519_BYTES;

  constructor() {
    const kdf = new SyncHkdfSha256();
    const curve = backendX25519() as unknown as ConstructorParameters<typeof XCurveDhkemPrimitives>[2];
    super(KemId.DhkemX25519HkdfSha256, new XCurveDhkemPrimitives('X25519', X25519_BYTES, curve, kdf), kdf);
  }
}

const bytesOf = (data: ArrayBufferLike | ArrayBufferView): Uint8Array => new Uint8Array(toArrayBuffer(data));

/** AES-128-GCM (AEAD id 0x0001) on the `#crypto` backend. */
class BackendAes128Gcm implements AeadInterface {
  readonly id = AeadId.Aes128Gcm;
  readonly keySize = 16;
  readonly nonceSize = 12;
  readonly tagSize = 16;

  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    const raw = bytesOf(key);
    return {
      seal: async (iv, data, aad) =>
        toArrayBuffer(backend.aeadSeal('aes-128-gcm', raw, bytesOf(iv), bytesOf(aad), bytesOf(data))),
      open: async (iv, data, aad) => {
        const plain = backend.aeadOpen('aes-128-gcm', raw, bytesOf(iv), bytesOf(aad), bytesOf(data));
        // @hpke/core turns any failure here into its OpenError.
        if (plain === undefined) throw new Error('AES-128-GCM: authentication failed');
        return toArrayBuffer(plain);
      },
    };
  }
}

/** The KMS cipher suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM on the backends above. */
export function kmsHpkeSuite(): CipherSuite {
  return new CipherSuite({
    kem: new BackendDhkemX25519HkdfSha256(),
    kdf: new SyncHkdfSha256(),
    aead: new BackendAes128Gcm(),
  });
}
