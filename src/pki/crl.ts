/**
 * Certificate revocation lists (RFC 5280 §5): strict parse keeping the signed bytes, then verification
 * against the issuing CA at a time: issuer name, signature, `thisUpdate ≤ at ≤ nextUpdate`.
 */
import { backend } from '#crypto';
import { equalBytes, toHex } from '../bytes.js';
import type { SignatureScheme } from '../crypto/types.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { type Certificate, formatName, publicKeyOf, signatureSchemeOf } from './certificate.js';
import {
  children,
  contextTag,
  expectTag,
  parseDer,
  readBitString,
  readSmallInteger,
  readTime,
  readUnsignedInteger,
  sequence,
  Tag,
} from './der.js';

export interface Crl {
  readonly der: Uint8Array;
  readonly issuer: string;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Revoked serial numbers, unsigned big-endian lowercase hex. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly tbs: Uint8Array;
  readonly signatureScheme: SignatureScheme;
  readonly signature: Uint8Array;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
}

function crlError(message: string, path: string, cause?: VeriteeError): VeriteeError {
  return new VeriteeError(ErrorCode.CRL_INVALID, message, {
    path: cause?.path ?? path,
    offset: cause?.offset,
  });
}

function parseCrlUncached(der: Uint8Array, path: string): Crl {
  const top = sequence(parseDer(der, path), path);
  if (top.length !== 3) throw crlError('CRL must have 3 parts', path);
  const tbsElement = top[0]!;
  const tbs = sequence(tbsElement, `${path}/tbsCertList`);
  const algorithm = signatureSchemeOf(top[1]!, `${path}/signatureAlgorithm`);
  const signature = readBitString(top[2], `${path}/signatureValue`);
  let index = 0;
  if (tbs[0]?.tag === Tag.INTEGER) {
    if (readSmallInteger(tbs[0], `${path}/version`) !== 1) throw crlError('unsupported CRL version', path);
    index++;
  }
  const inner = tbs[index++];
  if (inner === undefined || !equalBytes(inner.raw, top[1]!.raw)) {
    throw crlError('signature algorithm differs inside and outside the TBS', path);
  }
  const issuerElement = expectTag(tbs[index++], Tag.SEQUENCE, `${path}/issuer`);
  const thisUpdate = readTime(tbs[index++], `${path}/thisUpdate`);
  let nextUpdate: Date | undefined;
  const maybeNext = tbs[index];
  if (maybeNext !== undefined && (maybeNext.tag === Tag.UTC_TIME || maybeNext.tag === Tag.GENERALIZED_TIME)) {
    nextUpdate = readTime(maybeNext, `${path}/nextUpdate`);
    index++;
  }
  const revokedSerials = new Set<string>();
  if (tbs[index]?.tag === Tag.SEQUENCE) {
    for (const [i, entry] of sequence(tbs[index], `${path}/revokedCertificates`).entries()) {
      const fields = sequence(entry, `${path}/revokedCertificates[${i}]`);
      revokedSerials.add(toHex(readUnsignedInteger(fields[0], `${path}/revokedCertificates[${i}]/serial`)));
    }
    index++;
  }
  if (contextTag(tbs[index]) === 0) {
    children(tbs[index]!, `${path}/crlExtensions`);
    index++;
  }
  if (index !== tbs.length) throw crlError('unexpected field in TBS CertList', path);
  return {
    der,
    issuer: formatName(issuerElement, `${path}/issuer`),
    issuerDer: issuerElement.raw,
    thisUpdate,
    nextUpdate,
    revokedSerials,
    tbs: tbsElement.raw,
    signatureScheme: algorithm.scheme,
    signature,
    fingerprint: toHex(backend.hash('SHA-256', der)),
  };
}

/** Parses a DER CRL; any malformation is CRL_INVALID naming the field. */
export function parseCrl(input: Uint8Array, path = 'crl'): Crl {
  const der = input.slice();
  try {
    return parseCrlUncached(der, path);
  } catch (error) {
    if (error instanceof VeriteeError) {
      if (error.code === ErrorCode.SIG_ALGORITHM_UNSUPPORTED) throw error;
      throw crlError(`malformed CRL: ${error.shortMessage}`, path, error);
    }
    throw crlError('malformed CRL', path);
  }
}

export interface CrlCheckOptions {
  readonly at: Date;
  /** Accept a CRL up to this many milliseconds past nextUpdate (a policy grace period). Default 0. */
  readonly graceMs?: number;
  readonly path?: string;
}

/** Checks that `issuer` issued and signed `crl` (name, cRLSign, signature). No time check. */
export async function verifyCrlSignature(crl: Crl, issuer: Certificate, path = 'crl'): Promise<void> {
  if (!equalBytes(crl.issuerDer, issuer.subjectDer)) {
    throw new VeriteeError(
      ErrorCode.CRL_ISSUER_MISMATCH,
      `CRL issued by "${crl.issuer}", expected "${issuer.subject}"`,
      { path },
    );
  }
  if (issuer.keyUsage !== undefined && !issuer.keyUsage.cRLSign) {
    throw new VeriteeError(ErrorCode.CERT_KEY_USAGE, `"${issuer.subject}" may not sign CRLs (keyUsage)`, {
      path,
    });
  }
  if (!(await backend.verify(publicKeyOf(issuer), crl.signatureScheme, crl.tbs, crl.signature))) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      `CRL signature does not verify with the key of "${issuer.subject}"`,
      { path },
    );
  }
}

/**
 * Checks that `crl` is current at `options.at` (`thisUpdate ≤ at ≤ nextUpdate + grace`). Returns the
 * instant it stops being current (nextUpdate), or undefined when it carries none.
 */
export function checkCrlCurrent(crl: Crl, options: CrlCheckOptions): Date | undefined {
  const path = options.path ?? 'crl';
  const at = options.at.getTime();
  if (at < crl.thisUpdate.getTime()) {
    throw new VeriteeError(ErrorCode.CRL_NOT_YET_VALID, `CRL of "${crl.issuer}" is not valid yet`, {
      path,
      details: `thisUpdate ${crl.thisUpdate.toISOString()}, checked at ${options.at.toISOString()}`,
    });
  }
  if (crl.nextUpdate !== undefined && at > crl.nextUpdate.getTime() + (options.graceMs ?? 0)) {
    throw new VeriteeError(ErrorCode.CRL_EXPIRED, `CRL of "${crl.issuer}" is stale`, {
      path,
      details: `nextUpdate ${crl.nextUpdate.toISOString()}, checked at ${options.at.toISOString()}`,
    });
  }
  return crl.nextUpdate;
}

/**
 * Verifies `crl` was issued by `issuer` and is current at `at`. Returns the instant the CRL stops being
 * current (nextUpdate), or undefined when it carries none.
 */
export async function verifyCrl(
  crl: Crl,
  issuer: Certificate,
  options: CrlCheckOptions,
): Promise<Date | undefined> {
  await verifyCrlSignature(crl, issuer, options.path ?? 'crl');
  return checkCrlCurrent(crl, options);
}

/** Throws CERT_REVOKED when `certificate`'s serial is listed in `crl` (which must be its issuer's). */
export function checkNotRevoked(certificate: Certificate, crl: Crl, path: string): void {
  checkCrlCovers(certificate, crl, path);
  checkSerialNotRevoked(certificate, crl, path);
}

/** Throws CRL_ISSUER_MISMATCH unless `crl` is issued by `certificate`'s issuer (names compared as DER). */
export function checkCrlCovers(certificate: Certificate, crl: Crl, path: string): void {
  if (!equalBytes(certificate.issuerDer, crl.issuerDer)) {
    throw new VeriteeError(
      ErrorCode.CRL_ISSUER_MISMATCH,
      `CRL of "${crl.issuer}" does not cover "${certificate.subject}"`,
      { path },
    );
  }
}

/**
 * Throws CERT_REVOKED when `certificate`'s serial is listed in `crl`. Only for a pair that
 * {@link checkCrlCovers} accepted; {@link checkNotRevoked} does both.
 */
export function checkSerialNotRevoked(certificate: Certificate, crl: Crl, path: string): void {
  if (crl.revokedSerials.has(certificate.serialNumber)) {
    throw new VeriteeError(ErrorCode.CERT_REVOKED, `certificate "${certificate.subject}" is revoked`, {
      path,
      details: `serial ${certificate.serialNumber} is listed in the CRL of "${crl.issuer}"`,
    });
  }
}
