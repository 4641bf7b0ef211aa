/**
 * Browser implementation of the crypto interface: @noble/hashes and @noble/curves for hashing, ECDSA and
 * Ed25519 (synchronous, audited), WebCrypto for RSA (which noble does not provide).
 */

import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { ECParameters } from '@peculiar/asn1-ecc';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  AEAD_KEY_BYTES,
  type AeadName,
  type ChannelHashName,
  type CryptoBackend,
  type HashName,
  type PublicKey,
  type SignatureScheme,
} from './types.js';

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA = '1.2.840.113549.1.1.1';
const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const OID_ED25519 = '1.3.101.112';
const CURVE_BY_OID: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

interface WebPublicKey extends PublicKey {
  /** Raw key material: the EC point or the Ed25519 key. */
  readonly raw: Uint8Array;
  /** WebCrypto key for RSA, imported lazily per scheme. */
  readonly rsaKeys: Map<string, Promise<CryptoKey>>;
}

const HASHES = { 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 } as const;
const CHANNEL_HASHES = { 'SHA-256': sha256, BLAKE2b: (data: Uint8Array) => blake2b(data) } as const;
const CHANNEL_HMAC_HASHES = { 'SHA-256': sha256, BLAKE2b: blake2b } as const;

function aeadOf(name: AeadName, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array) {
  // noble's gcm picks AES-128 or AES-256 from the key length; node:crypto refuses a mismatch, so do we.
  if (key.length !== AEAD_KEY_BYTES[name])
    throw new Error(`${name} needs a ${AEAD_KEY_BYTES[name]}-byte key`);
  return name === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, ad) : gcm(key, nonce, ad);
}

function channelHashOf(name: ChannelHashName, data: Uint8Array): Uint8Array {
  return CHANNEL_HASHES[name](data);
}

const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

function hashOf(name: HashName, data: Uint8Array): Uint8Array {
  return HASHES[name](data);
}

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (value === undefined) throw new Error('WebCrypto is not available');
  return value;
}

function parseSpki(spki: Uint8Array): WebPublicKey {
  const copy = spki.slice();
  const info = AsnConvert.parse(copy, SubjectPublicKeyInfo);
  const raw = new Uint8Array(info.subjectPublicKey);
  const algorithm = info.algorithm.algorithm;
  if (algorithm === OID_EC_PUBLIC_KEY) {
    const params = info.algorithm.parameters;
    if (!params) throw new Error('EC key without curve parameters');
    const curveOid = AsnConvert.parse(params, ECParameters).namedCurve ?? '';
    const curve = CURVE_BY_OID[curveOid];
    if (curve === undefined) throw new Error(`unsupported EC curve ${curveOid}`);
    CURVES[curve].Point.fromBytes(raw).assertValidity();
    return { type: 'ec', curve, spki: copy, raw, rsaKeys: new Map() };
  }
  if (algorithm === OID_RSA || algorithm === OID_RSA_PSS) {
    return { type: 'rsa', rsaBits: rsaModulusBits(raw), spki: copy, raw, rsaKeys: new Map() };
  }
  if (algorithm === OID_ED25519) {
    if (raw.length !== 32) throw new Error('Ed25519 key must be 32 bytes');
    return { type: 'ed25519', spki: copy, raw, rsaKeys: new Map() };
  }
  throw new Error(`unsupported key algorithm ${algorithm}`);
}

// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } — read just the modulus length.
function rsaModulusBits(rsaPublicKey: Uint8Array): number {
  let offset = 0;
  const readLength = (): number => {
    const first = rsaPublicKey[offset++] ?? 0;
    if (first < 0x80) return first;
    let length = 0;
    for (let i = 0; i < (first & 0x7f); i++) length = (length << 8) | (rsaPublicKey[offset++] ?? 0);
    return length;
  };
  offset++; // SEQUENCE tag
  readLength();
  offset++; // INTEGER tag
  let length = readLength();
  while (length > 0 && rsaPublicKey[offset] === 0) {
    offset++;
    length--;
  }
  return length * 8;
}

async function rsaKey(key: WebPublicKey, algorithm: RsaHashedImportParams): Promise<CryptoKey> {
  const id = `${algorithm.name}/${String(algorithm.hash)}`;
  let pending = key.rsaKeys.get(id);
  if (pending === undefined) {
    pending = subtle().importKey('spki', key.spki as BufferSource, algorithm, false, ['verify']);
    key.rsaKeys.set(id, pending);
  }
  return pending;
}

async function verifyWeb(
  key: WebPublicKey,
  scheme: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    switch (scheme.kind) {
      case 'ecdsa': {
        if (key.type !== 'ec' || key.curve === undefined) return false;
        const digest = hashOf(scheme.hash, data);
        return CURVES[key.curve].verify(signature, digest, key.raw, {
          prehash: false,
          lowS: false,
          format: scheme.encoding === 'der' ? 'der' : 'compact',
        });
      }
      case 'rsa-pss': {
        if (key.type !== 'rsa') return false;
        const cryptoKey = await rsaKey(key, { name: 'RSA-PSS', hash: scheme.hash });
        return await subtle().verify(
          { name: 'RSA-PSS', saltLength: scheme.saltLength },
          cryptoKey,
          signature as BufferSource,
          data as BufferSource,
        );
      }
      case 'rsa-pkcs1': {
        if (key.type !== 'rsa') return false;
        const cryptoKey = await rsaKey(key, { name: 'RSASSA-PKCS1-v1_5', hash: scheme.hash });
        return await subtle().verify(
          'RSASSA-PKCS1-v1_5',
          cryptoKey,
          signature as BufferSource,
          data as BufferSource,
        );
      }
      case 'ed25519':
        if (key.type !== 'ed25519') return false;
        return ed25519.verify(signature, data, key.raw, { zip215: false });
    }
  } catch {
    return false;
  }
}

export const backend: CryptoBackend = {
  name: 'noble+webcrypto',
  hash: hashOf,
  hashParts(name, parts) {
    const hasher = HASHES[name].create();
    for (const part of parts) hasher.update(part);
    return hasher.digest();
  },
  importSpki: parseSpki,
  importEcPoint(curve, point) {
    CURVES[curve].Point.fromBytes(point).assertValidity();
    return {
      type: 'ec',
      curve,
      spki: ecSpki(curve, point),
      raw: point.slice(),
      rsaKeys: new Map(),
    } as WebPublicKey;
  },
  verify(key, scheme, data, signature) {
    return verifyWeb(key as WebPublicKey, scheme, data, signature);
  },
  importJwk(jwk) {
    if (jwk.d !== undefined) throw new Error('expected a public JWK, got a private one');
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x !== undefined) {
      const raw = fromB64u(jwk.x);
      if (raw.length !== 32) throw new Error('Ed25519 key must be 32 bytes');
      return {
        type: 'ed25519',
        spki: concat(ED25519_SPKI_PREFIX, raw),
        raw,
        rsaKeys: new Map(),
      } as WebPublicKey;
    }
    if (
      jwk.kty === 'EC' &&
      (jwk.crv === 'P-256' || jwk.crv === 'P-384') &&
      jwk.x !== undefined &&
      jwk.y !== undefined
    ) {
      return backend.importEcPoint(jwk.crv, concat(Uint8Array.of(4), fromB64u(jwk.x), fromB64u(jwk.y)));
    }
    throw new Error('unsupported JWK');
  },
  async sign(privateJwk, scheme, data) {
    if (privateJwk.d === undefined) throw new Error('not a private JWK');
    const d = fromB64u(privateJwk.d);
    if (scheme.kind === 'ed25519') return ed25519.sign(data, d);
    if (scheme.kind !== 'ecdsa' || (privateJwk.crv !== 'P-256' && privateJwk.crv !== 'P-384')) {
      throw new Error(`signing with ${scheme.kind} is not supported`);
    }
    return CURVES[privateJwk.crv].sign(hashOf(scheme.hash, data), d, {
      prehash: false,
      format: scheme.encoding === 'der' ? 'der' : 'compact',
    });
  },
  sameBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  },
  randomBytes(length) {
    const out = new Uint8Array(length);
    // getRandomValues fills at most 65536 bytes per call (WebCrypto's quota).
    for (let offset = 0; offset < length; offset += 65536) {
      globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(offset + 65536, length)));
    }
    return out;
  },
  channelHash: channelHashOf,
  hmac(name, key, data) {
    return hmac(CHANNEL_HMAC_HASHES[name], key, data);
  },
  x25519Generate() {
    const privateKey = x25519.utils.randomSecretKey();
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  },
  x25519GenerateSecret() {
    let privateKey: Uint8Array | undefined = x25519.utils.randomSecretKey();
    return {
      publicKey: x25519.getPublicKey(privateKey),
      agree: (peerPublicKey) => {
        if (privateKey === undefined) throw new Error('X25519 key was erased');
        return backend.x25519(privateKey, peerPublicKey);
      },
      erase: () => {
        privateKey?.fill(0);
        privateKey = undefined;
      },
    };
  },
  x25519PublicKey(privateKey) {
    return x25519.getPublicKey(privateKey);
  },
  x25519(privateKey, publicKey) {
    // noble refuses an all-zero shared secret (a low-order point), as RFC 7748 §6.1 allows.
    return x25519.getSharedSecret(privateKey, publicKey);
  },
  aeadSeal(name, key, nonce, ad, plaintext) {
    const whole = plaintext instanceof Uint8Array ? plaintext : concat(...plaintext);
    return aeadOf(name, key, nonce, ad).encrypt(whole);
  },
  aeadSealParts(name, key, nonce, ad, plaintext) {
    // noble seals one contiguous buffer: the parts are joined first.
    return [
      aeadOf(name, key, nonce, ad).encrypt(plaintext.length === 1 ? plaintext[0]! : concat(...plaintext)),
    ];
  },
  aeadOpen(name, key, nonce, ad, ciphertext) {
    try {
      return aeadOf(name, key, nonce, ad).decrypt(ciphertext);
    } catch {
      return undefined;
    }
  },
  aeadOpenParts(name, key, nonce, ad, ciphertext) {
    // noble opens one contiguous buffer: the pieces are joined first.
    const plaintext = backend.aeadOpen(
      name,
      key,
      nonce,
      ad,
      ciphertext.length === 1 ? ciphertext[0]! : concat(...ciphertext),
    );
    return plaintext === undefined ? undefined : [plaintext];
  },
};

// DER prefixes of SubjectPublicKeyInfo for uncompressed P-256 / P-384 points (RFC 5480 §2).
const SPKI_PREFIX: Record<'P-256' | 'P-384', string> = {
  'P-256': '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  'P-384': '3076301006072a8648ce3d020106052b81040022036200',
};

function ecSpki(curve: 'P-256' | 'P-384', point: Uint8Array): Uint8Array {
  const prefixHex = SPKI_PREFIX[curve];
  const prefix = new Uint8Array(prefixHex.length / 2);
  for (let i = 0; i < prefix.length; i++) prefix[i] = Number.parseInt(prefixHex.slice(2 * i, 2 * i + 2), 16);
  const out = new Uint8Array(prefix.length + point.length);
  out.set(prefix);
  out.set(point, prefix.length);
  return out;
}

// RFC 8410 §4: SubjectPublicKeyInfo prefix for a raw Ed25519 key.
const ED25519_SPKI_PREFIX = Uint8Array.of(
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function fromB64u(text: string): Uint8Array {
  const normal = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(normal + '='.repeat((4 - (normal.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
