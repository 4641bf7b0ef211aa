/**
 * Issues the simulator's X.509 certificates and CRLs with the @peculiar/asn1-x509 schema and node:crypto
 * signatures: ECDSA with SHA-384 under a P-384 issuer key (like the Nitro PKI) or SHA-256 under a P-256
 * one (like Intel's SGX PKI). Only the simulator uses this: veritee never issues certificates for real
 * hardware.
 */
import { type KeyObject, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  CertificateList,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  RevokedCertificate,
  SubjectPublicKeyInfo,
  TBSCertificate,
  TBSCertList,
  Time,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { ErrorCode, VeriteeError } from '../../errors.js';

// RFC 5758 §3.2: ecdsa-with-SHA256 / ecdsa-with-SHA384.
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

export interface DistinguishedName {
  readonly commonName: string;
  readonly organization: string;
}

export interface CertificateRequest {
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly publicKey: KeyObject;
  /** P-384 (signs with SHA-384) or P-256 (signs with SHA-256). */
  readonly signingKey: KeyObject;
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
  /** RFC 5280 basicConstraints pathLenConstraint (CAs only). */
  readonly pathLength?: number | undefined;
  /** Further non-critical extensions: OID and the DER of the extension value. */
  readonly extensions?: readonly { readonly oid: string; readonly value: Uint8Array }[] | undefined;
}

function name(parts: DistinguishedName): Name {
  const attribute = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([attribute(OID_CN, parts.commonName), attribute(OID_O, parts.organization)]);
}

function extension(id: string, value: object): Extension {
  return new Extension({
    extnID: id,
    critical: true,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

/** The signature algorithm a key signs with here: the hash that matches its curve. */
function signatureOf(key: KeyObject): { oid: string; hash: 'sha256' | 'sha384' } {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return { oid: ECDSA_WITH_SHA256, hash: 'sha256' };
  if (curve === 'secp384r1') return { oid: ECDSA_WITH_SHA384, hash: 'sha384' };
  throw new VeriteeError(
    ErrorCode.ARGUMENT_INVALID,
    `simulator signing keys are P-256 or P-384, not ${curve ?? key.asymmetricKeyType}`,
  );
}

function signDer(data: ArrayBuffer, key: KeyObject, hash: 'sha256' | 'sha384'): ArrayBuffer {
  return new Uint8Array(sign(hash, new Uint8Array(data), { key, dsaEncoding: 'der' })).buffer;
}

/** A positive DER serial: the top bit cleared so no leading zero is needed, never all zero. */
function positiveSerial(serial: Uint8Array): ArrayBuffer {
  const out = serial.slice();
  out[0] = (out[0] ?? 0) & 0x7f || 1;
  return out.buffer as ArrayBuffer;
}

/** A DER certificate for `request`. */
export function issueCertificate(request: CertificateRequest): Uint8Array {
  const { oid, hash } = signatureOf(request.signingKey);
  const algorithm = new AlgorithmIdentifier({ algorithm: oid });
  const spki = request.publicKey.export({ format: 'der', type: 'spki' });
  const extensions = [
    extension(
      id_ce_basicConstraints,
      new BasicConstraints({
        cA: request.ca,
        ...(request.ca && request.pathLength !== undefined ? { pathLenConstraint: request.pathLength } : {}),
      }),
    ),
    extension(
      id_ce_keyUsage,
      new KeyUsage(
        request.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature,
      ),
    ),
    ...(request.extensions ?? []).map(
      (item) => new Extension({ extnID: item.oid, critical: false, extnValue: new OctetString(item.value) }),
    ),
  ];
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: positiveSerial(request.serial),
    signature: algorithm,
    issuer: name(request.issuer),
    validity: new Validity({ notBefore: request.notBefore, notAfter: request.notAfter }),
    subject: name(request.subject),
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    extensions: new Extensions(extensions),
  });
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: signDer(AsnConvert.serialize(tbs), request.signingKey, hash),
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}

export interface CrlRequest {
  readonly issuer: DistinguishedName;
  readonly signingKey: KeyObject;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Serial numbers (as issued) of revoked certificates. */
  readonly revoked?: readonly Uint8Array[] | undefined;
}

/** A DER X.509 v2 CRL (RFC 5280 §5) for `request`. */
export function issueCrl(request: CrlRequest): Uint8Array {
  const { oid, hash } = signatureOf(request.signingKey);
  const algorithm = new AlgorithmIdentifier({ algorithm: oid });
  const revoked = (request.revoked ?? []).map(
    (serial) =>
      new RevokedCertificate({
        userCertificate: positiveSerial(serial),
        revocationDate: new Time(request.thisUpdate),
      }),
  );
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: algorithm,
    issuer: name(request.issuer),
    thisUpdate: new Time(request.thisUpdate),
    nextUpdate: new Time(request.nextUpdate),
    ...(revoked.length > 0 ? { revokedCertificates: revoked } : {}),
  });
  const crl = new CertificateList({
    tbsCertList: tbs,
    signatureAlgorithm: algorithm,
    signature: signDer(AsnConvert.serialize(tbs), request.signingKey, hash),
  });
  return new Uint8Array(AsnConvert.serialize(crl));
}
