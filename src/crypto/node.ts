/** node:crypto implementation of the crypto interface (server side; 7–35× faster than pure JS here). */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  type JsonWebKey as NodeJsonWebKey,
  constants as nodeConstants,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import type { CryptoBackend, HashName, PublicKey, SignatureScheme } from './types.js';

interface NodePublicKey extends PublicKey {
  readonly keyObject: KeyObject;
}

const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
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

export const backend: CryptoBackend = {
  name: 'node:crypto',
  hash(name, data) {
    return new Uint8Array(createHash(NODE_HASH[name]).update(data).digest());
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
    const jwk = {
      kty: 'EC',
      crv: curve,
      x: Buffer.from(point.subarray(1, 1 + size)).toString('base64url'),
      y: Buffer.from(point.subarray(1 + size)).toString('base64url'),
    };
    const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
    const spki = new Uint8Array(keyObject.export({ format: 'der', type: 'spki' }));
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
};

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
