/**
 * The small crypto interface the library core uses. Two implementations exist: `node.ts` (node:crypto,
 * fast, used on the server) and `web.ts` (@noble/* and WebCrypto, used in browsers). The package's
 * `#crypto` import picks one by export condition, so the core never imports `node:` itself.
 */

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

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
}
