/**
 * Issues the simulator's X.509 certificates (ECDSA P-384 / SHA-384, like the Nitro PKI) with the
 * @peculiar/asn1-x509 schema and node:crypto signatures. Only the simulator uses this: veritee never
 * issues certificates for real hardware.
 */
import { type KeyObject, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

export interface CertificateRequest {
  readonly subject: { readonly commonName: string; readonly organization: string };
  readonly issuer: { readonly commonName: string; readonly organization: string };
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly ca: boolean;
}

function name(parts: { commonName: string; organization: string }): Name {
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

/** A DER certificate for `request`. */
export function issueCertificate(request: CertificateRequest): Uint8Array {
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA384 });
  const spki = request.publicKey.export({ format: 'der', type: 'spki' });
  // A positive serial: clear the top bit so DER does not need a leading zero.
  const serial = request.serial.slice();
  serial[0] = (serial[0] ?? 0) & 0x7f || 1;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serial.buffer as ArrayBuffer,
    signature: algorithm,
    issuer: name(request.issuer),
    validity: new Validity({ notBefore: request.notBefore, notAfter: request.notAfter }),
    subject: name(request.subject),
    subjectPublicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, new BasicConstraints({ cA: request.ca })),
      extension(
        id_ce_keyUsage,
        new KeyUsage(
          request.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature,
        ),
      ),
    ]),
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const signature = sign('sha384', new Uint8Array(tbsDer), { key: request.signingKey, dsaEncoding: 'der' });
  const certificate = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: new Uint8Array(signature).buffer,
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}
