/**
 * The small crypto interface the library core uses. Two implementations exist: `node.ts` (node:crypto,
 * fast, used on the server) and `web.ts` (@noble/* and WebCrypto, used in browsers). The package's
 * `#crypto` import picks one by export condition, so the core never imports `node:` itself.
 */

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** Hashes the Noise channel uses (BLAKE2b is BLAKE2b-512, unkeyed). */
export type ChannelHashName = 'SHA-256' | 'BLAKE2b';

/**
 * AEADs: 12-byte nonce, 16-byte tag appended to the ciphertext. The Noise channel uses the two with a
 * 32-byte key; the KMS's HPKE suite uses AES-128-GCM (16-byte key).
 */
export type AeadName = 'chacha20-poly1305' | 'aes-256-gcm' | 'aes-128-gcm';

/** Key length of each AEAD, in bytes. */
export const AEAD_KEY_BYTES: Readonly<Record<AeadName, number>> = {
  'chacha20-poly1305': 32,
  'aes-256-gcm': 32,
  'aes-128-gcm': 16,
};

/** Raw X25519 key pair (RFC 7748): 32-byte private scalar and 32-byte public u-coordinate. */
export interface X25519KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * A generated X25519 key whose private half stays inside the backend (node:crypto keeps it as a KeyObject:
 * never exported, so never imported again): its public key and Diffie-Hellman with a peer's public key.
 * For keys used a few times and dropped (Noise ephemerals, a client's per-connection static key).
 */
export interface X25519Secret {
  readonly publicKey: Uint8Array;
  /** X25519(this key, peerPublicKey); throws when the result is all zeros or the key was erased. */
  agree(peerPublicKey: Uint8Array): Uint8Array;
  /** Drops the private half (best effort: zeroes it where the backend holds bytes); `agree` then throws. */
  erase(): void;
}

export type SignatureScheme =
  | { readonly kind: 'ecdsa'; readonly hash: HashName; readonly encoding: 'der' | 'p1363' }
  | { readonly kind: 'rsa-pss'; readonly hash: HashName; readonly saltLength: number }
  | { readonly kind: 'rsa-pkcs1'; readonly hash: HashName }
  | { readonly kind: 'ed25519' };

/** An imported public key. Opaque: hold on to it to avoid re-importing (import is the slow part). */
export interface PublicKey {
  /** `ec` with its curve, `rsa` with its modulus size, or `ed25519`. */
  readonly type: 'ec' | 'rsa' | 'ed25519';
  readonly curve?: 'P-256' | 'P-384' | 'P-521';
  readonly rsaBits?: number;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
}

export interface CryptoBackend {
  readonly name: string;
  hash(name: HashName, data: Uint8Array): Uint8Array;
  /** Hash of the concatenation of `parts`, without building the concatenation (large images). */
  hashParts(name: HashName, parts: readonly Uint8Array[]): Uint8Array;
  /** Imports a DER SubjectPublicKeyInfo; throws on malformed or unsupported keys. */
  importSpki(spki: Uint8Array): PublicKey;
  /** Imports an uncompressed EC point (0x04 ‖ x ‖ y) on the named curve. */
  importEcPoint(curve: 'P-256' | 'P-384', point: Uint8Array): PublicKey;
  /** True when `signature` over `data` is valid for `key` under `scheme`. Never throws for a bad signature. */
  verify(key: PublicKey, scheme: SignatureScheme, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Imports a public JWK (EC P-256/P-384 or OKP Ed25519). */
  importJwk(jwk: JsonWebKey): PublicKey;
  /** Signs with a private JWK: ECDSA (P1363 r‖s) or Ed25519. */
  sign(privateJwk: JsonWebKey, scheme: SignatureScheme, data: Uint8Array): Promise<Uint8Array>;
  randomBytes(length: number): Uint8Array;
  /**
   * Whether two byte strings are equal, as fast as the platform allows. Not constant-time: only for bytes
   * that are not secret (e.g. finding whether a quote repeats bytes already verified).
   */
  sameBytes(a: Uint8Array, b: Uint8Array): boolean;

  /** BLAKE2b-512 or SHA-256 of `data` (the hashes the Noise channel may use). */
  channelHash(name: ChannelHashName, data: Uint8Array): Uint8Array;
  /** HMAC (RFC 2104) with a channel hash. */
  hmac(name: ChannelHashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** A fresh random X25519 key pair. */
  x25519Generate(): X25519KeyPair;
  /** A fresh random X25519 key whose private half never leaves the backend (cheaper than a raw pair on node). */
  x25519GenerateSecret(): X25519Secret;
  /** The public key of a raw 32-byte private key. */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** X25519(privateKey, publicKey); throws when the result is all zeros (a low-order public key). */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /**
   * AEAD encryption: returns ciphertext ‖ 16-byte tag. The plaintext may be given in parts (encrypted as
   * their concatenation), so a caller can prepend a header without copying the body.
   */
  aeadSeal(
    name: AeadName,
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: Uint8Array | readonly Uint8Array[],
  ): Uint8Array;
  /**
   * The same encryption as `aeadSeal`, returned as pieces whose concatenation is ciphertext ‖ tag, so a
   * stream transport can write them with one gather write instead of joining a 64 KiB record in memory.
   */
  aeadSealParts(
    name: AeadName,
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    plaintext: readonly Uint8Array[],
  ): Uint8Array[];
  /** AEAD decryption of ciphertext ‖ tag; returns undefined when authentication fails (never throws for that). */
  aeadOpen(
    name: AeadName,
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    ciphertext: Uint8Array,
  ): Uint8Array | undefined;
  /**
   * `aeadOpen` of ciphertext ‖ tag given as pieces (e.g. views of socket reads), returning the plaintext
   * as pieces whose concatenation is it. Nothing is returned before the tag has been verified.
   */
  aeadOpenParts(
    name: AeadName,
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    ciphertext: readonly Uint8Array[],
  ): Uint8Array[] | undefined;
}
