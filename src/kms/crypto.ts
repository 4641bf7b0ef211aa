/**
 * The KMS protocol's cryptography, composed from audited libraries only (browser-safe):
 *
 * - share encryption: HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
 *   AES-128-GCM, `@hpke/core`'s protocol on the `#crypto` backend's primitives (see hpke.ts); the
 *   `info` string names the app, epoch, share index and direction;
 * - secret splitting: Shamir over GF(2^8), from `shamir-secret-sharing`;
 * - signatures (node, owner, key-check): Ed25519 from `@noble/curves`;
 * - derivations: HKDF-SHA256 from `@noble/hashes` with labels under `veritee/kms/v1`;
 * - sealed state: AES-256-GCM from WebCrypto.
 *
 * Nothing here writes a primitive; the labels, bindings and formats are the protocol.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { combine, split } from 'shamir-secret-sharing';
import { concatBytes, equalBytes, toHex, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { kmsHpkeSuite } from './hpke.js';

export const PROTOCOL = 'veritee/kms/v1';
export const SECRET_BYTES = 32;
export const X25519_BYTES = 32;
export const ED25519_PUBLIC_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}

export function sha256Of(data: Uint8Array): Uint8Array {
  return sha256(data);
}

/** Length-prefixed (u32 BE) concatenation of labelled parts, so no two part lists hash alike. */
export function framed(parts: readonly (Uint8Array | string)[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? utf8Encode(part) : part;
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.length);
    chunks.push(length, bytes);
  }
  return concatBytes(...chunks);
}

/** SHA-512 of framed parts: the 64-byte value enclaves put into report_data / user_data. */
export function bindingDigest(parts: readonly (Uint8Array | string)[]): Uint8Array {
  return sha512(framed([PROTOCOL, ...parts]));
}

// --- HPKE -------------------------------------------------------------------------------------------

const suite = kmsHpkeSuite();

export interface HpkeKeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

export async function hpkeGenerate(): Promise<HpkeKeyPair> {
  const pair = await suite.kem.generateKeyPair();
  return {
    publicKey: new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)),
    privateKey: new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey)),
  };
}

export interface Sealed {
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

/** HPKE base-mode single-shot seal to `recipient` (32-byte X25519 public key). */
export async function hpkeSeal(
  recipient: Uint8Array,
  info: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(),
): Promise<Sealed> {
  try {
    const recipientPublicKey = await suite.kem.deserializePublicKey(recipient);
    const { ct, enc } = await suite.seal({ recipientPublicKey, info }, plaintext, aad);
    return { enc: new Uint8Array(enc), ct: new Uint8Array(ct) };
  } catch {
    throw new VeriteeError(ErrorCode.KEY_INVALID, 'HPKE: cannot encrypt to this public key');
  }
}

/**
 * An HPKE recipient key, imported once and used for many opens: a node's long-term key, or the
 * ephemeral key of one recovery (whose private half never leaves the suite's key object).
 */
export class HpkeRecipient {
  readonly publicKey: Uint8Array;
  readonly #keys: CryptoKeyPair;
  #destroyed = false;

  private constructor(publicKey: Uint8Array, keys: CryptoKeyPair) {
    this.publicKey = publicKey;
    this.#keys = keys;
  }

  /** Imports a stored key pair. */
  static async fromKeyPair(pair: HpkeKeyPair): Promise<HpkeRecipient> {
    try {
      const keys = {
        privateKey: await suite.kem.deserializePrivateKey(pair.privateKey),
        publicKey: await suite.kem.deserializePublicKey(pair.publicKey),
      };
      return new HpkeRecipient(pair.publicKey.slice(), keys);
    } catch {
      throw new VeriteeError(ErrorCode.KEY_INVALID, 'HPKE: the key pair cannot be imported');
    }
  }

  /** A fresh key pair whose private half is never exported. */
  static async generate(): Promise<HpkeRecipient> {
    const keys = await suite.kem.generateKeyPair();
    return new HpkeRecipient(new Uint8Array(await suite.kem.serializePublicKey(keys.publicKey)), keys);
  }

  /** HPKE base-mode open; any failure (wrong key, tampered bytes, wrong info) is `code`. */
  async open(
    info: Uint8Array,
    sealed: Sealed,
    code: ErrorCode,
    what: string,
    aad: Uint8Array = new Uint8Array(),
  ): Promise<Uint8Array> {
    if (this.#destroyed) throw new VeriteeError(ErrorCode.KEY_INVALID, 'HPKE: this key was destroyed');
    try {
      return new Uint8Array(
        await suite.open({ recipientKey: this.#keys, enc: sealed.enc, info }, sealed.ct, aad),
      );
    } catch {
      throw new VeriteeError(code, `${what}: decryption failed`);
    }
  }

  /** Overwrites the private key bytes (held raw by the suite's key object) and refuses further opens. */
  destroy(): void {
    this.#destroyed = true;
    const raw = (this.#keys.privateKey as unknown as { key?: unknown }).key;
    if (raw instanceof Uint8Array) raw.fill(0);
  }
}

/** The HPKE `info` for a share travelling to a node (`to-node`) or to an enclave (`to-enclave`). */
export function shareInfo(
  direction: 'to-node' | 'to-enclave',
  appId: string,
  epoch: number,
  index: number,
): Uint8Array {
  return framed([PROTOCOL, `share ${direction}`, appId, String(epoch), String(index)]);
}

// --- Shamir -----------------------------------------------------------------------------------------

export async function splitSecret(secret: Uint8Array, n: number, t: number): Promise<Uint8Array[]> {
  if (secret.length !== SECRET_BYTES) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'bad secret size');
  return split(secret, n, t);
}

export async function combineShares(shares: readonly Uint8Array[]): Promise<Uint8Array> {
  try {
    return await combine([...shares]);
  } catch {
    throw new VeriteeError(ErrorCode.KMS_SHARE_INVALID, 'shares cannot be combined');
  }
}

/** Commitment to one share: SHA-256(framed(salt, app, epoch, index, share)), published at create. */
export function shareCommitment(
  salt: Uint8Array,
  appId: string,
  epoch: number,
  index: number,
  share: Uint8Array,
): Uint8Array {
  return sha256(framed([PROTOCOL, 'share commitment', salt, appId, String(epoch), String(index), share]));
}

// --- Derivations ------------------------------------------------------------------------------------

/**
 * HKDF-SHA256 with salt = `veritee/kms/v1` and info = framed(app, purpose, ...context). The epoch is
 * not an input: a reshare keeps the secret and so every derived key; a rotation changes both.
 */
export function derive(
  secret: Uint8Array,
  appId: string,
  purpose: string,
  context: readonly string[] = [],
  length = 32,
): Uint8Array {
  return hkdf(sha256, secret, utf8Encode(PROTOCOL), framed([appId, purpose, ...context]), length);
}

/**
 * The key-check value: the Ed25519 public key whose seed is derived from the secret. Published at
 * create; a recombination that does not reproduce it is wrong. The same key authenticates the app's
 * sealed-state version bumps at the nodes.
 */
export function keyCheckKey(secret: Uint8Array, appId: string) {
  const seed = derive(secret, appId, 'key-check');
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

export function checkKeyCheck(secret: Uint8Array, appId: string, epoch: number, expected: Uint8Array): void {
  const { publicKey } = keyCheckKey(secret, appId);
  if (!equalBytes(publicKey, expected)) {
    throw new VeriteeError(
      ErrorCode.KMS_KEY_CHECK_FAILED,
      'recombined secret does not match the key-check value',
      {
        details: `app ${appId} epoch ${epoch}`,
      },
    );
  }
}

// --- Ed25519 ----------------------------------------------------------------------------------------

export function ed25519Generate(): { seed: Uint8Array; publicKey: Uint8Array } {
  const seed = randomBytes(32);
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

export function ed25519Public(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

/** True for a valid signature; false (never an exception) for anything else. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

/** Signature over a domain-separated message: framed(protocol, purpose, body). */
export function signFor(seed: Uint8Array, purpose: string, body: Uint8Array): Uint8Array {
  return ed25519Sign(seed, framed([PROTOCOL, purpose, body]));
}

/** Signs framed(protocol, purpose, body) with a node's key; Node runtimes pass a node:crypto one. */
export type DomainSigner = (purpose: string, body: Uint8Array) => Promise<Uint8Array>;

/** A DomainSigner over @noble/curves (browser-safe, slower than node:crypto). */
export function nobleSigner(seed: Uint8Array): DomainSigner {
  return async (purpose, body) => signFor(seed, purpose, body);
}

export function verifyFor(
  publicKey: Uint8Array,
  purpose: string,
  body: Uint8Array,
  signature: Uint8Array,
): boolean {
  return ed25519Verify(publicKey, framed([PROTOCOL, purpose, body]), signature);
}

/** Node id: hex of the first 16 bytes of SHA-256(framed(hpke public key, signing public key)). */
export function nodeIdOf(hpkePublicKey: Uint8Array, signingPublicKey: Uint8Array): string {
  return toHex(sha256(framed([PROTOCOL, 'node id', hpkePublicKey, signingPublicKey])).subarray(0, 16));
}

// --- AEAD (sealed state) ----------------------------------------------------------------------------

/** A copy on a plain ArrayBuffer, as WebCrypto's types want. */
function buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

export async function aeadSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) {
  const subtle = globalThis.crypto.subtle;
  const cryptoKey = await subtle.importKey('raw', buffer(key), 'AES-GCM', false, ['encrypt']);
  const params = { name: 'AES-GCM', iv: buffer(nonce), additionalData: buffer(aad) };
  return new Uint8Array(await subtle.encrypt(params, cryptoKey, buffer(plaintext)));
}

export async function aeadOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array) {
  try {
    const subtle = globalThis.crypto.subtle;
    const cryptoKey = await subtle.importKey('raw', buffer(key), 'AES-GCM', false, ['decrypt']);
    const params = { name: 'AES-GCM', iv: buffer(nonce), additionalData: buffer(aad) };
    return new Uint8Array(await subtle.decrypt(params, cryptoKey, buffer(ciphertext)));
  } catch {
    throw new VeriteeError(ErrorCode.KMS_SEALED_INVALID, 'sealed blob does not authenticate');
  }
}
