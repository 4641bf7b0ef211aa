/**
 * X.509 certificates (RFC 5280 §4.1): a strict parse that keeps the exact signed bytes, plus the signature
 * algorithms veritee accepts. Parsing does not check signatures, validity or trust: see `chain.ts`.
 */
import { backend } from '#crypto';
import { equalBytes, fromBase64, toHex } from '../bytes.js';
import type { PublicKey, SignatureScheme } from '../crypto/types.js';
import { ErrorCode, VeriteeError, wrapErrors } from '../errors.js';
import {
  children,
  contextTag,
  type DerElement,
  expectTag,
  parseDer,
  readBitString,
  readBoolean,
  readOid,
  readSmallInteger,
  readString,
  readTime,
  readUnsignedInteger,
  sequence,
  Tag,
} from './der.js';

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue OCTET STRING contents. */
  readonly value: Uint8Array;
}

export interface Certificate {
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  readonly version: number;
  /** Serial number, unsigned big-endian hex (AMD certificates use serial 0). */
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  /** Raw DER of the subject and issuer Names, compared byte-for-byte when building chains. */
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signatureScheme: SignatureScheme;
  readonly signature: Uint8Array;
  readonly spki: Uint8Array;
  readonly extensions: ReadonlyMap<string, Extension>;
  /** basicConstraints cA, or undefined when the extension is absent. */
  readonly isCa: boolean | undefined;
  readonly pathLength: number | undefined;
  /** keyUsage keyCertSign / cRLSign, or undefined when the extension is absent. */
  readonly keyUsage:
    | { readonly keyCertSign: boolean; readonly cRLSign: boolean; readonly digitalSignature: boolean }
    | undefined;
}

export const Oid = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  rsaPss: '1.2.840.113549.1.1.10',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ed25519: '1.3.101.112',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  mgf1: '1.2.840.113549.1.1.8',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const HASH_BY_OID: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  [Oid.sha256]: 'SHA-256',
  [Oid.sha384]: 'SHA-384',
  [Oid.sha512]: 'SHA-512',
};

/** Maps an AlgorithmIdentifier to a signature scheme; unknown algorithms are refused. */
export function signatureSchemeOf(
  algorithm: DerElement,
  path: string,
): { oid: string; scheme: SignatureScheme } {
  const parts = sequence(algorithm, path);
  const oid = readOid(parts[0], `${path}/algorithm`);
  const ecdsa = (hash: 'SHA-256' | 'SHA-384' | 'SHA-512'): SignatureScheme => ({
    kind: 'ecdsa',
    hash,
    encoding: 'der',
  });
  switch (oid) {
    case Oid.ecdsaWithSha256:
      return { oid, scheme: ecdsa('SHA-256') };
    case Oid.ecdsaWithSha384:
      return { oid, scheme: ecdsa('SHA-384') };
    case Oid.ecdsaWithSha512:
      return { oid, scheme: ecdsa('SHA-512') };
    case Oid.sha256WithRsa:
      return { oid, scheme: { kind: 'rsa-pkcs1', hash: 'SHA-256' } };
    case Oid.sha384WithRsa:
      return { oid, scheme: { kind: 'rsa-pkcs1', hash: 'SHA-384' } };
    case Oid.sha512WithRsa:
      return { oid, scheme: { kind: 'rsa-pkcs1', hash: 'SHA-512' } };
    case Oid.ed25519:
      return { oid, scheme: { kind: 'ed25519' } };
    case Oid.rsaPss:
      return { oid, scheme: rsaPssScheme(parts[1], `${path}/parameters`) };
    default:
      throw new VeriteeError(ErrorCode.SIG_ALGORITHM_UNSUPPORTED, `unsupported signature algorithm ${oid}`, {
        path,
      });
  }
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1). veritee requires the hash to be given explicitly and MGF1 to use the
 * same hash, which is what AMD's certificates carry; the salt length defaults to 20 per the RFC.
 */
function rsaPssScheme(parameters: DerElement | undefined, path: string): SignatureScheme {
  const fields = sequence(parameters, path);
  let hash: 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined;
  let mgfHash: string | undefined;
  let saltLength = 20;
  for (const field of fields) {
    const [inner] = children(field, path);
    switch (contextTag(field)) {
      case 0: {
        const hashOid = readOid(sequence(inner, `${path}/hashAlgorithm`)[0], `${path}/hashAlgorithm`);
        hash = HASH_BY_OID[hashOid];
        break;
      }
      case 1: {
        const mgf = sequence(inner, `${path}/maskGenAlgorithm`);
        if (readOid(mgf[0], `${path}/maskGenAlgorithm`) !== Oid.mgf1) {
          throw new VeriteeError(
            ErrorCode.SIG_ALGORITHM_UNSUPPORTED,
            'RSA-PSS mask generation must be MGF1',
            { path },
          );
        }
        mgfHash = HASH_BY_OID[readOid(sequence(mgf[1], `${path}/maskGenAlgorithm`)[0], path)];
        break;
      }
      case 2:
        saltLength = readSmallInteger(inner, `${path}/saltLength`);
        break;
      case 3:
        if (readSmallInteger(inner, `${path}/trailerField`) !== 1) {
          throw new VeriteeError(ErrorCode.SIG_ALGORITHM_UNSUPPORTED, 'RSA-PSS trailer field must be 1', {
            path,
          });
        }
        break;
      default:
        throw new VeriteeError(ErrorCode.PARSE_MALFORMED, 'unexpected RSA-PSS parameter', { path });
    }
  }
  if (hash === undefined || mgfHash !== hash) {
    throw new VeriteeError(
      ErrorCode.SIG_ALGORITHM_UNSUPPORTED,
      'RSA-PSS needs an explicit SHA-2 hash matching MGF1',
      { path },
    );
  }
  return { kind: 'rsa-pss', hash, saltLength };
}

/** Renders a Name as `CN=…, O=…` (most specific first is not guaranteed: the input order is kept). */
export function formatName(name: DerElement, path: string): string {
  const parts: string[] = [];
  for (const rdn of children(expectTag(name, Tag.SEQUENCE, path), path)) {
    for (const attribute of children(expectTag(rdn, Tag.SET, path), path)) {
      const [type, value] = sequence(attribute, path);
      const oid = readOid(type, path);
      let text: string;
      try {
        text = readString(value, path);
      } catch {
        text = `#${toHex(value?.value ?? new Uint8Array())}`;
      }
      parts.push(`${NAME_ATTRIBUTES[oid] ?? oid}=${text}`);
    }
  }
  return parts.join(', ');
}

function parseExtensions(element: DerElement, path: string): Map<string, Extension> {
  const [list] = children(element, path);
  const out = new Map<string, Extension>();
  for (const [index, item] of sequence(list, path).entries()) {
    const itemPath = `${path}[${index}]`;
    const fields = sequence(item, itemPath);
    const oid = readOid(fields[0], itemPath);
    let critical = false;
    let valueField = fields[1];
    if (valueField?.tag === Tag.BOOLEAN) {
      critical = readBoolean(valueField, `${itemPath}/critical`);
      valueField = fields[2];
    }
    const value = expectTag(valueField, Tag.OCTET_STRING, `${itemPath}/extnValue`).value;
    if (out.has(oid)) {
      throw new VeriteeError(ErrorCode.CERT_MALFORMED, `duplicate extension ${oid}`, { path: itemPath });
    }
    out.set(oid, { oid, critical, value });
  }
  return out;
}

function parseBasicConstraints(
  extension: Extension | undefined,
  path: string,
): { isCa: boolean | undefined; pathLength: number | undefined } {
  if (extension === undefined) return { isCa: undefined, pathLength: undefined };
  const fields = sequence(parseDer(extension.value, path), path);
  let index = 0;
  let isCa = false;
  if (fields[index]?.tag === Tag.BOOLEAN) isCa = readBoolean(fields[index++], `${path}/cA`);
  const pathLength =
    fields[index] === undefined ? undefined : readSmallInteger(fields[index], `${path}/pathLen`);
  return { isCa, pathLength };
}

function parseKeyUsage(extension: Extension | undefined, path: string): Certificate['keyUsage'] {
  if (extension === undefined) return undefined;
  const bits = readBitString(parseDer(extension.value, path), path, true);
  const first = bits[0] ?? 0;
  // RFC 5280 §4.2.1.3: digitalSignature (0), keyCertSign (5), cRLSign (6), numbered from the high bit.
  return {
    digitalSignature: (first & 0x80) !== 0,
    keyCertSign: (first & 0x04) !== 0,
    cRLSign: (first & 0x02) !== 0,
  };
}

function parseCertificateUncached(der: Uint8Array, fingerprint: string, path: string): Certificate {
  const top = sequence(parseDer(der, path), path);
  if (top.length !== 3)
    throw new VeriteeError(ErrorCode.CERT_MALFORMED, 'certificate must have 3 parts', { path });
  const tbsElement = top[0]!;
  const tbs = sequence(tbsElement, `${path}/tbsCertificate`);
  const outerAlgorithm = signatureSchemeOf(top[1]!, `${path}/signatureAlgorithm`);
  const signature = readBitString(top[2], `${path}/signatureValue`);

  let index = 0;
  let version = 1;
  if (contextTag(tbs[0]) === 0) {
    version = readSmallInteger(children(tbs[0]!, path)[0], `${path}/version`) + 1;
    index++;
  }
  const serialNumber = toHex(readUnsignedInteger(tbs[index++], `${path}/serialNumber`));
  const innerAlgorithm = tbs[index++];
  // RFC 5280 §4.1.1.2: the outer and inner algorithm identifiers must be identical.
  if (innerAlgorithm === undefined || !equalBytes(innerAlgorithm.raw, top[1]!.raw)) {
    throw new VeriteeError(
      ErrorCode.CERT_MALFORMED,
      'signature algorithm differs inside and outside the TBS',
      { path },
    );
  }
  const issuerElement = expectTag(tbs[index++], Tag.SEQUENCE, `${path}/issuer`);
  const validity = sequence(tbs[index++], `${path}/validity`);
  const subjectElement = expectTag(tbs[index++], Tag.SEQUENCE, `${path}/subject`);
  const spkiElement = expectTag(tbs[index++], Tag.SEQUENCE, `${path}/subjectPublicKeyInfo`);
  let extensions = new Map<string, Extension>();
  for (; index < tbs.length; index++) {
    const tag = contextTag(tbs[index]);
    if (tag === 3) extensions = parseExtensions(tbs[index]!, `${path}/extensions`);
    else if (tag !== 1 && tag !== 2) {
      throw new VeriteeError(ErrorCode.CERT_MALFORMED, 'unexpected field in TBS certificate', {
        path,
        offset: tbs[index]!.offset,
      });
    }
  }
  const basic = parseBasicConstraints(extensions.get(Oid.basicConstraints), `${path}/basicConstraints`);
  return {
    der,
    fingerprint,
    version,
    serialNumber,
    subject: formatName(subjectElement, `${path}/subject`),
    issuer: formatName(issuerElement, `${path}/issuer`),
    subjectDer: subjectElement.raw,
    issuerDer: issuerElement.raw,
    notBefore: readTime(validity[0], `${path}/validity/notBefore`),
    notAfter: readTime(validity[1], `${path}/validity/notAfter`),
    tbs: tbsElement.raw,
    signatureAlgorithm: outerAlgorithm.oid,
    signatureScheme: outerAlgorithm.scheme,
    signature,
    spki: spkiElement.raw,
    extensions,
    isCa: basic.isCa,
    pathLength: basic.pathLength,
    keyUsage: parseKeyUsage(extensions.get(Oid.keyUsage), `${path}/keyUsage`),
  };
}

// Parsed certificates by fingerprint. Intermediates repeat across every document; leaves do not, so the
// cache is bounded and evicts in insertion order.
const CERT_CACHE_LIMIT = 512;
const certCache = new Map<string, Certificate>();
const publicKeyCache = new WeakMap<Certificate, PublicKey>();

/**
 * Parses a DER certificate. Any malformation is a `VeriteeError` with code CERT_MALFORMED (or a
 * SIG_ALGORITHM_UNSUPPORTED for unknown algorithms), naming `path`.
 */
export function parseCertificate(input: Uint8Array, path = 'certificate'): Certificate {
  const key = toHex(backend.hash('SHA-256', input));
  const cached = certCache.get(key);
  if (cached !== undefined) return cached;
  // Copied before parsing, so later changes to the caller's buffer cannot reach the parsed value.
  const der = input.slice();
  const parsed = wrapErrors(
    ErrorCode.CERT_MALFORMED,
    'malformed certificate',
    () => {
      try {
        return parseCertificateUncached(der, key, path);
      } catch (error) {
        if (error instanceof VeriteeError && error.code.startsWith('PARSE_')) {
          throw new VeriteeError(ErrorCode.CERT_MALFORMED, `malformed certificate: ${error.shortMessage}`, {
            path: error.path,
            offset: error.offset,
          });
        }
        throw error;
      }
    },
    path,
  );
  if (certCache.size >= CERT_CACHE_LIMIT) certCache.delete(certCache.keys().next().value as string);
  certCache.set(key, parsed);
  return parsed;
}

/** The certificate's public key, imported once and kept. */
export function publicKeyOf(certificate: Certificate): PublicKey {
  const cached = publicKeyCache.get(certificate);
  if (cached !== undefined) return cached;
  {
    const key = wrapErrors(
      ErrorCode.KEY_INVALID,
      `unusable public key in certificate ${certificate.subject}`,
      () => backend.importSpki(certificate.spki),
    );
    publicKeyCache.set(certificate, key);
    return key;
  }
}

/** Extracts every certificate from PEM text, in order. */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pattern = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  for (const match of pem.matchAll(pattern)) {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    out.push(fromBase64(body, 'pem'));
  }
  return out;
}

export function parsePemCertificates(pem: string, path = 'pem'): Certificate[] {
  const ders = pemToDer(pem);
  if (ders.length === 0)
    throw new VeriteeError(ErrorCode.PARSE_MALFORMED, 'no PEM certificate found', { path });
  return ders.map((der, i) => parseCertificate(der, `${path}[${i}]`));
}

/** Verifies that `issuer`'s key signed `subject`'s TBS (signature only; no names, dates or trust). */
export async function verifySignedBy(subject: Certificate, issuer: Certificate): Promise<boolean> {
  return backend.verify(publicKeyOf(issuer), subject.signatureScheme, subject.tbs, subject.signature);
}
