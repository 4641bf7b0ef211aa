/** node:crypto implementation of the crypto interface (server side; 7–35× faster than pure JS here). */

import * as nodeCrypto from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  type JsonWebKey as NodeJsonWebKey,
  constants as nodeConstants,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { type EvpAddon, type EvpX25519Key, evpAddon } from './node-evp.js';
import { generateJwkPair, generateWithPublicJwk } from './node-keys.js';
import type {
  AeadName,
  ChannelHashName,
  CryptoBackend,
  HashName,
  PublicKey,
  SignatureScheme,
} from './types.js';

interface NodePublicKey extends PublicKey {
  readonly keyObject: KeyObject;
}

const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const NODE_CHANNEL_HASH: Record<ChannelHashName, string> = { 'SHA-256': 'sha256', BLAKE2b: 'blake2b512' };
// Typed as GCM for the overloads; ChaCha20-Poly1305 takes the same options (authTagLength, setAAD).
const NODE_AEAD: Record<AeadName, 'aes-256-gcm'> = {
  'chacha20-poly1305': 'chacha20-poly1305' as 'aes-256-gcm',
  'aes-256-gcm': 'aes-256-gcm',
  'aes-128-gcm': 'aes-128-gcm' as 'aes-256-gcm',
};
// RFC 8410 DER prefix of a PKCS #8 PrivateKeyInfo for a raw X25519 key.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
// SubjectPublicKeyInfo DER of an uncompressed EC point (RFC 5480): SEQUENCE { SEQUENCE { id-ecPublicKey,
// namedCurve }, BIT STRING (no unused bits) } followed by the 65- or 97-byte point. Fixed for a given curve.
const EC_SPKI_PREFIX: Record<'P-256' | 'P-384', Uint8Array> = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
};
const TAG_LENGTH = 16;
const CHANNEL_HASH_SIZE: Record<ChannelHashName, number> = { 'SHA-256': 32, BLAKE2b: 64 };

// crypto.hash (Node ≥ 20.12) skips the Hash object: ~35 % faster for short inputs (Noise, quote fields).
const nodeOneShotHash = (
  nodeCrypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }
).hash;
function oneShotHash(algorithm: string, data: Uint8Array): Buffer {
  return nodeOneShotHash !== undefined
    ? nodeOneShotHash(algorithm, data, 'buffer')
    : createHash(algorithm).update(data).digest();
}

// Importing a key costs 3–20× a scalar multiplication in OpenSSL 3, so imported and generated X25519
// keys are remembered per key array (the handshake reuses the same arrays for its three DH steps).
const privateKeyObjects = new WeakMap<Uint8Array, KeyObject>();
const publicKeyObjects = new WeakMap<Uint8Array, KeyObject>();

function x25519PrivateKeyObject(privateKey: Uint8Array): KeyObject {
  const cached = privateKeyObjects.get(privateKey);
  if (cached !== undefined) return cached;
  if (privateKey.length !== 32) throw new Error('X25519 private key must be 32 bytes');
  const keyObject = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]),
    format: 'der',
    type: 'pkcs8',
  });
  privateKeyObjects.set(privateKey, keyObject);
  return keyObject;
}

function x25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  const cached = publicKeyObjects.get(publicKey);
  if (cached !== undefined) return cached;
  if (publicKey.length !== 32) throw new Error('X25519 public key must be 32 bytes');
  // JWK import is ~1.7× faster than SPKI DER in Node 20.
  const keyObject = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey).toString('base64url') },
    format: 'jwk',
  });
  publicKeyObjects.set(publicKey, keyObject);
  return keyObject;
}

// SubjectPublicKeyInfo DER of an X25519 key (RFC 8410): a fixed 12-byte prefix, then the 32-byte key.
const X25519_SPKI_PREFIX_LENGTH = 12;

function rawX25519Public(keyObject: KeyObject): Uint8Array {
  const der = keyObject.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(X25519_SPKI_PREFIX_LENGTH));
}

const NODE_CURVE: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

function describe(keyObject: KeyObject, spki: Uint8Array): NodePublicKey {
  const details = keyObject.asymmetricKeyDetails ?? {};
  switch (keyObject.asymmetricKeyType) {
    case 'ec': {
      const curve = NODE_CURVE[details.namedCurve ?? ''];
      if (curve === undefined) throw new Error(`unsupported EC curve ${details.namedCurve}`);
      return { type: 'ec', curve, spki, keyObject };
    }
    case 'rsa':
    case 'rsa-pss':
      return { type: 'rsa', rsaBits: details.modulusLength ?? 0, spki, keyObject };
    case 'ed25519':
      return { type: 'ed25519', spki, keyObject };
    default:
      throw new Error(`unsupported key type ${keyObject.asymmetricKeyType}`);
  }
}

// Private keys imported once per JWK object: services sign every response with the same key.
const privateKeys = new WeakMap<JsonWebKey, KeyObject>();

function privateKeyOf(jwk: JsonWebKey): KeyObject {
  let key = privateKeys.get(jwk);
  if (key === undefined) {
    key = createPrivateKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
    privateKeys.set(jwk, key);
  }
  return key;
}

function keyObjectOf(key: PublicKey): KeyObject {
  return (key as NodePublicKey).keyObject;
}

function sealParts(
  name: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  plaintext: readonly Uint8Array[],
): Uint8Array[] {
  // One cipher object per message: node:crypto has no way to give an existing one a new nonce.
  const cipher = createCipheriv(NODE_AEAD[name], key, nonce, { authTagLength: TAG_LENGTH });
  // AAD needs no declared plaintext length for GCM or ChaCha20-Poly1305 (only CCM does).
  if (ad.length > 0) cipher.setAAD(ad);
  const out: Uint8Array[] = [];
  for (const part of plaintext) if (part.length > 0) out.push(cipher.update(part));
  const rest = cipher.final(); // empty for these stream-mode AEADs
  if (rest.length > 0) out.push(rest);
  out.push(cipher.getAuthTag());
  return out;
}

/** A Buffer seen as a plain Uint8Array (the interface returns Uint8Array, not Buffer's subclass). */
function plainView(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

function openParts(
  name: AeadName,
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  ciphertext: readonly Uint8Array[],
): Uint8Array[] | undefined {
  let length = 0;
  for (const part of ciphertext) length += part.length;
  if (length < TAG_LENGTH) return undefined;
  // The body pieces are decrypted as they are (no join); the tag may straddle two pieces.
  const bodyLength = length - TAG_LENGTH;
  const tag = new Uint8Array(TAG_LENGTH);
  const decipher = createDecipheriv(NODE_AEAD[name], key, nonce, { authTagLength: TAG_LENGTH });
  if (ad.length > 0) decipher.setAAD(ad);
  const out: Uint8Array[] = [];
  let offset = 0;
  for (const part of ciphertext) {
    const bodyEnd = Math.min(part.length, Math.max(0, bodyLength - offset));
    if (bodyEnd > 0) out.push(plainView(decipher.update(part.subarray(0, bodyEnd))));
    if (bodyEnd < part.length) tag.set(part.subarray(bodyEnd), offset + bodyEnd - bodyLength);
    offset += part.length;
  }
  decipher.setAuthTag(tag);
  try {
    const rest = decipher.final(); // empty for these stream-mode AEADs
    if (rest.length > 0) out.push(plainView(rest));
  } catch {
    return undefined; // the decrypted pieces are dropped unseen
  }
  return out.length === 0 ? [new Uint8Array(0)] : out;
}

/** The backend on node:crypto's own API. */
const nodeCryptoBackend: CryptoBackend = {
  name: 'node:crypto',
  hash(name, data) {
    return new Uint8Array(oneShotHash(NODE_HASH[name], data));
  },
  hashParts(name, parts) {
    const hasher = createHash(NODE_HASH[name]);
    for (const part of parts) hasher.update(part);
    return new Uint8Array(hasher.digest());
  },
  importSpki(spki) {
    const copy = spki.slice();
    return describe(createPublicKey({ key: Buffer.from(copy), format: 'der', type: 'spki' }), copy);
  },
  importEcPoint(curve, point) {
    const size = curve === 'P-256' ? 32 : 48;
    if (point.length !== 1 + 2 * size || point[0] !== 0x04) throw new Error('EC point must be uncompressed');
    // JWK, not an SPKI DER built from the RFC 5480 prefix: on Node 20 a P-256 JWK import took 81 µs and the
    // DER import 170 µs (best of 8 × 2,000, same process, 2026-11-26).
    const jwk = {
      kty: 'EC',
      crv: curve,
      x: Buffer.from(point.subarray(1, 1 + size)).toString('base64url'),
      y: Buffer.from(point.subarray(1 + size)).toString('base64url'),
    };
    const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
    // The SPKI from the fixed prefix and the point (the import above validated the point is on the curve)
    // rather than exported from the key object.
    const prefix = EC_SPKI_PREFIX[curve];
    const spki = new Uint8Array(prefix.length + point.length);
    spki.set(prefix);
    spki.set(point, prefix.length);
    return { type: 'ec', curve, spki, keyObject } satisfies NodePublicKey;
  },
  async verify(key, scheme, data, signature) {
    return verifySync(key, scheme, data, signature);
  },
  importJwk(jwk) {
    if (jwk.d !== undefined) throw new Error('expected a public JWK, got a private one');
    const keyObject = createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
    return describe(keyObject, new Uint8Array(keyObject.export({ format: 'der', type: 'spki' })));
  },
  async sign(privateJwk, scheme, data) {
    const key = privateKeyOf(privateJwk);
    if (scheme.kind === 'ed25519') return new Uint8Array(nodeSign(null, data, key));
    if (scheme.kind !== 'ecdsa') throw new Error(`signing with ${scheme.kind} is not supported`);
    return new Uint8Array(
      nodeSign(NODE_HASH[scheme.hash], data, {
        key,
        dsaEncoding: scheme.encoding === 'der' ? 'der' : 'ieee-p1363',
      }),
    );
  },
  randomBytes(length) {
    return new Uint8Array(nodeRandomBytes(length));
  },
  sameBytes(a, b) {
    // A native memcmp: ≈ 12× faster than a JavaScript loop over 600 bytes.
    return a.length === b.length && Buffer.compare(a, b) === 0;
  },
  channelHash(name, data) {
    return new Uint8Array(oneShotHash(NODE_CHANNEL_HASH[name], data));
  },
  hmac(name, key, data) {
    return new Uint8Array(createHmac(NODE_CHANNEL_HASH[name], key).update(data).digest());
  },
  x25519Generate() {
    // JWK encodings from the generation itself (see node-keys.ts). DER encodings would avoid the JWK code
    // too, but OpenSSL 3's DER decoder makes the private-key import ~15× slower than this JWK one.
    const { privateJwk: jwk, publicJwk } = generateJwkPair('x25519');
    const privateKey = new Uint8Array(Buffer.from(jwk.d ?? '', 'base64url'));
    const publicKey = new Uint8Array(Buffer.from(publicJwk.x ?? '', 'base64url'));
    if (privateKey.length !== 32 || publicKey.length !== 32) throw new Error('unexpected X25519 JWK');
    privateKeyObjects.set(privateKey, createPrivateKey({ key: jwk, format: 'jwk' }));
    return { privateKey, publicKey };
  },
  x25519GenerateSecret() {
    // The private half stays the generated KeyObject, used for DH only and never exported: this saves the
    // private-key import of x25519Generate, which derives the public key a second time.
    const pair = generateWithPublicJwk('x25519');
    const publicKey = new Uint8Array(Buffer.from(pair.publicJwk.x ?? '', 'base64url'));
    if (publicKey.length !== 32) throw new Error('unexpected X25519 JWK');
    let privateKey: KeyObject | undefined = pair.privateKey;
    return {
      publicKey,
      agree(peerPublicKey) {
        if (privateKey === undefined) throw new Error('X25519 key was erased');
        return new Uint8Array(diffieHellman({ privateKey, publicKey: x25519PublicKeyObject(peerPublicKey) }));
      },
      erase() {
        privateKey = undefined;
      },
    };
  },
  x25519PublicKey(privateKey) {
    return rawX25519Public(createPublicKey(x25519PrivateKeyObject(privateKey)));
  },
  x25519(privateKey, publicKey) {
    // OpenSSL refuses an all-zero shared secret (a low-order point), as RFC 7748 §6.1 allows.
    return new Uint8Array(
      diffieHellman({
        privateKey: x25519PrivateKeyObject(privateKey),
        publicKey: x25519PublicKeyObject(publicKey),
      }),
    );
  },
  aeadSeal(name, key, nonce, ad, plaintext) {
    const parts = sealParts(name, key, nonce, ad, plaintext instanceof Uint8Array ? [plaintext] : plaintext);
    let length = 0;
    for (const part of parts) length += part.length;
    const sealed = Buffer.concat(parts, length);
    return plainView(sealed);
  },
  aeadSealParts: sealParts,
  aeadOpen(name, key, nonce, ad, ciphertext) {
    const parts = openParts(name, key, nonce, ad, [ciphertext]);
    if (parts === undefined) return undefined;
    if (parts.length === 1) return parts[0]!;
    return plainView(Buffer.concat(parts));
  },
  aeadOpenParts: openParts,
};

/** The functions the veritee-evp addon takes over: the channel's primitives (and HPKE's AEAD). */
type EvpFunctions = Pick<
  CryptoBackend,
  | 'channelHash'
  | 'hmac'
  | 'x25519Generate'
  | 'x25519GenerateSecret'
  | 'x25519PublicKey'
  | 'x25519'
  | 'aeadSeal'
  | 'aeadSealParts'
  | 'aeadOpen'
  | 'aeadOpenParts'
>;

/**
 * The channel's hashes, HMACs, X25519 and AEAD calls on the veritee-evp addon (the same OpenSSL, without
 * node:crypto's per-call objects). Verification hashes stay on node:crypto: their inputs are often small
 * arrays inside V8's heap, which node:crypto reads in place and native code would first have to move out.
 */
function evpFunctions(evp: EvpAddon): EvpFunctions {
  // Outputs live outside V8's heap (Buffer memory, every byte written by the addon): a small typed array
  // made with a length is stored inside the heap, and handing it to native code makes V8 move it out
  // first (~1 µs per array), which each hash output would pay again as the next call's input.
  const output = (length: number) => plainView(Buffer.allocUnsafe(length));
  const x25519Keys = new WeakMap<Uint8Array, EvpX25519Key>();
  const x25519KeyOf = (privateKey: Uint8Array): EvpX25519Key => {
    let key = x25519Keys.get(privateKey);
    if (key === undefined) {
      key = evp.x25519Import(privateKey, output(32));
      x25519Keys.set(privateKey, key);
    }
    return key;
  };
  const agree = (key: EvpX25519Key, peerPublicKey: Uint8Array): Uint8Array => {
    const shared = output(32);
    if (!evp.x25519Agree(key, peerPublicKey, shared)) {
      throw new Error('X25519 shared secret is all zeros (a low-order public key)');
    }
    return shared;
  };
  // A message in more pieces than the addon takes (a peer can dribble a record in tiny reads) is joined.
  const fewParts = (parts: readonly Uint8Array[]) =>
    parts.length <= evp.MAX_PARTS ? parts : [Buffer.concat(parts)];
  type Call = [
    name: AeadName,
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array,
    parts: readonly Uint8Array[],
  ];
  const seal = (...[name, key, nonce, ad, parts]: Call) => {
    let length = TAG_LENGTH;
    for (const part of parts) length += part.length;
    const sealed = output(length);
    evp.aeadSeal(evp.AEAD[name], key, nonce, ad, fewParts(parts), sealed);
    return sealed;
  };
  const open = (...[name, key, nonce, ad, parts]: Call) => {
    let length = 0;
    for (const part of parts) length += part.length;
    if (length < TAG_LENGTH) return undefined;
    const plaintext = output(length - TAG_LENGTH);
    // On failure the addon has wiped `plaintext`, and it is dropped here.
    return evp.aeadOpen(evp.AEAD[name], key, nonce, ad, fewParts(parts), plaintext) ? plaintext : undefined;
  };
  return {
    channelHash(name, data) {
      const out = output(CHANNEL_HASH_SIZE[name]);
      evp.digest(evp.MD[name], data, out);
      return out;
    },
    hmac(name, key, data) {
      const out = output(CHANNEL_HASH_SIZE[name]);
      evp.hmac(evp.MD[name], key, data, out);
      return out;
    },
    x25519Generate() {
      const privateKey = plainView(nodeRandomBytes(32));
      const publicKey = output(32);
      x25519Keys.set(privateKey, evp.x25519Import(privateKey, publicKey));
      return { privateKey, publicKey };
    },
    x25519GenerateSecret() {
      const publicKey = output(32);
      const key = evp.x25519Generate(publicKey);
      let erased = false;
      return {
        publicKey,
        agree(peerPublicKey) {
          if (erased) throw new Error('X25519 key was erased');
          return agree(key, peerPublicKey);
        },
        erase() {
          erased = true;
          evp.x25519Erase(key);
        },
      };
    },
    x25519PublicKey(privateKey) {
      const publicKey = output(32);
      evp.x25519Erase(evp.x25519Import(privateKey, publicKey));
      return publicKey;
    },
    x25519: (privateKey, publicKey) => agree(x25519KeyOf(privateKey), publicKey),
    aeadSeal: (name, key, nonce, ad, plaintext) =>
      seal(name, key, nonce, ad, plaintext instanceof Uint8Array ? [plaintext] : plaintext),
    aeadSealParts: (name, key, nonce, ad, plaintext) => [seal(name, key, nonce, ad, plaintext)],
    aeadOpen: (name, key, nonce, ad, ciphertext) => open(name, key, nonce, ad, [ciphertext]),
    aeadOpenParts(name, key, nonce, ad, ciphertext) {
      const plaintext = open(name, key, nonce, ad, ciphertext);
      return plaintext === undefined ? undefined : [plaintext];
    },
  };
}

/** A node backend: on the veritee-evp addon when given one, else on node:crypto's API alone. */
export function createNodeBackend(evp: EvpAddon | undefined): CryptoBackend {
  if (evp === undefined) return nodeCryptoBackend;
  return { ...nodeCryptoBackend, name: 'node:crypto+veritee-evp', ...evpFunctions(evp) };
}

/**
 * The node backend that loads the addon at its first channel call (see node-evp.ts): a process that only
 * verifies evidence never loads it.
 */
function lazyNodeBackend(): CryptoBackend {
  let chosen: CryptoBackend | undefined;
  const use = () => (chosen ??= createNodeBackend(evpAddon()));
  return {
    ...nodeCryptoBackend,
    get name() {
      return use().name;
    },
    channelHash: (name, data) => use().channelHash(name, data),
    hmac: (name, key, data) => use().hmac(name, key, data),
    x25519Generate: () => use().x25519Generate(),
    x25519GenerateSecret: () => use().x25519GenerateSecret(),
    x25519PublicKey: (privateKey) => use().x25519PublicKey(privateKey),
    x25519: (privateKey, publicKey) => use().x25519(privateKey, publicKey),
    aeadSeal: (name, key, nonce, ad, plaintext) => use().aeadSeal(name, key, nonce, ad, plaintext),
    aeadSealParts: (name, key, nonce, ad, plaintext) => use().aeadSealParts(name, key, nonce, ad, plaintext),
    aeadOpen: (name, key, nonce, ad, ciphertext) => use().aeadOpen(name, key, nonce, ad, ciphertext),
    aeadOpenParts: (name, key, nonce, ad, ciphertext) =>
      use().aeadOpenParts(name, key, nonce, ad, ciphertext),
  };
}

export const backend: CryptoBackend = lazyNodeBackend();

function verifySync(
  key: PublicKey,
  scheme: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const keyObject = keyObjectOf(key);
  try {
    switch (scheme.kind) {
      case 'ecdsa':
        if (key.type !== 'ec') return false;
        return nodeVerify(
          NODE_HASH[scheme.hash],
          data,
          { key: keyObject, dsaEncoding: scheme.encoding === 'der' ? 'der' : 'ieee-p1363' },
          signature,
        );
      case 'rsa-pss':
        if (key.type !== 'rsa') return false;
        return nodeVerify(
          NODE_HASH[scheme.hash],
          data,
          { key: keyObject, padding: nodeConstants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength },
          signature,
        );
      case 'rsa-pkcs1':
        if (key.type !== 'rsa') return false;
        return nodeVerify(
          NODE_HASH[scheme.hash],
          data,
          { key: keyObject, padding: nodeConstants.RSA_PKCS1_PADDING },
          signature,
        );
      case 'ed25519':
        if (key.type !== 'ed25519') return false;
        return nodeVerify(null, data, keyObject, signature);
    }
  } catch {
    // OpenSSL throws on structurally invalid signatures (bad DER, wrong length): that is a failed check.
    return false;
  }
}
