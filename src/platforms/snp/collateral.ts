/**
 * SEV-SNP endorsements as a caller hands them over: the VCEK/VLEK certificate, the ASK/ASVK (+ ARK)
 * chain and AMD CRLs, each as DER or PEM bytes (or PEM text), plus the certificate table of an extended
 * report. This module only decodes them into certificates and CRLs; `verify.ts` decides what they prove.
 */
import { utf8Decode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type Certificate, parseCertificate, parsePemCertificates, pemToDer } from '../../pki/certificate.js';
import { type Crl, parseCrl } from '../../pki/crl.js';
import { readElement } from '../../pki/der.js';

export type BytesOrText = Uint8Array | string;

export interface SnpCollateral {
  /**
   * The VCEK or VLEK certificate (DER or PEM). A PEM file may carry the chain after it (as Azure IMDS serves
   * VCEK, ASK, ARK): the extra certificates are used as chain candidates.
   */
  readonly vcek?: BytesOrText | undefined;
  /** ASK or ASVK, optionally followed by the ARK (PEM, or concatenated DER). */
  readonly chain?: BytesOrText | undefined;
  /** AMD CRLs (DER or PEM), e.g. the ARK-issued CRL from AMD KDS. */
  readonly crl?: BytesOrText | readonly BytesOrText[] | undefined;
  /** An extended report's certificate table, when it is not appended to the report bytes. */
  readonly certTable?: Uint8Array | undefined;
}

const PEM_MARK = '-----BEGIN';
/** Bound on how many certificates one collateral field may hold. */
const MAX_CERTIFICATES = 8;

function isBytesOrText(value: unknown): value is BytesOrText {
  return value instanceof Uint8Array || typeof value === 'string';
}

/** Checks that a caller-supplied collateral value has the SnpCollateral shape. */
export function asSnpCollateral(value: unknown): SnpCollateral {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'SEV-SNP collateral must be an object', {
      path: 'collateral',
    });
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!['vcek', 'chain', 'crl', 'certTable'].includes(key)) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `unknown SEV-SNP collateral field "${key}"`, {
        path: `collateral/${key}`,
      });
    }
  }
  const check = (key: string, ok: boolean): void => {
    if (!ok) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `collateral ${key} must be bytes or PEM text`, {
        path: `collateral/${key}`,
      });
    }
  };
  check('vcek', record.vcek === undefined || isBytesOrText(record.vcek));
  check('chain', record.chain === undefined || isBytesOrText(record.chain));
  check('certTable', record.certTable === undefined || record.certTable instanceof Uint8Array);
  const crl = record.crl;
  check('crl', crl === undefined || isBytesOrText(crl) || (Array.isArray(crl) && crl.every(isBytesOrText)));
  return record as SnpCollateral;
}

function asText(input: BytesOrText, path: string): string | undefined {
  if (typeof input === 'string') return input;
  // PEM is ASCII; DER starts with 0x30. Only treat bytes as text when they contain a PEM header.
  const head = input.subarray(0, Math.min(input.length, 64));
  for (let i = 0; i < head.length; i++) if (head[i]! >= 0x80) return undefined;
  const text = new TextDecoder('latin1').decode(input);
  if (!text.includes(PEM_MARK)) return undefined;
  return utf8Decode(input, path);
}

/** Splits concatenated DER elements (no gaps, nothing after the last). */
function splitDer(bytes: Uint8Array, path: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let position = 0;
  while (position < bytes.length) {
    if (out.length >= MAX_CERTIFICATES) {
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'too many certificates', {
        path,
        details: `at most ${MAX_CERTIFICATES}`,
      });
    }
    const element = readElement(bytes, position, `${path}[${out.length}]`);
    out.push(element.raw);
    position += element.raw.length;
  }
  return out;
}

/** Decodes one or more certificates from PEM or (concatenated) DER. */
export function decodeCertificates(input: BytesOrText, path: string): Certificate[] {
  const text = asText(input, path);
  if (text !== undefined) {
    const certificates = parsePemCertificates(text, path);
    if (certificates.length > MAX_CERTIFICATES) {
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'too many certificates', { path });
    }
    return certificates;
  }
  if (typeof input === 'string') {
    throw new VeriteeError(ErrorCode.PARSE_MALFORMED, 'no PEM certificate found', { path });
  }
  if (input.length === 0) throw new VeriteeError(ErrorCode.PARSE_TRUNCATED, 'certificate is empty', { path });
  let ders: Uint8Array[];
  try {
    ders = splitDer(input, path);
  } catch (error) {
    if (error instanceof VeriteeError && error.code === ErrorCode.PARSE_LIMIT_EXCEEDED) throw error;
    const inner = error instanceof VeriteeError ? error.shortMessage : 'malformed';
    throw new VeriteeError(ErrorCode.CERT_MALFORMED, `malformed certificate: ${inner}`, { path });
  }
  return ders.map((der, index) => parseCertificate(der, ders.length === 1 ? path : `${path}[${index}]`));
}

/** Decodes CRLs from PEM (`X509 CRL`) or DER. */
export function decodeCrls(input: BytesOrText | readonly BytesOrText[], path: string): Crl[] {
  const inputs: readonly BytesOrText[] = isBytesOrText(input) ? [input] : input;
  const out: Crl[] = [];
  for (const [index, item] of inputs.entries()) {
    const itemPath = inputs.length === 1 ? path : `${path}[${index}]`;
    const text = asText(item, itemPath);
    if (text !== undefined) {
      const ders = pemToDer(text, 'X509 CRL');
      if (ders.length === 0)
        throw new VeriteeError(ErrorCode.CRL_INVALID, 'no PEM CRL found', { path: itemPath });
      for (const der of ders) out.push(parseCrl(der, itemPath));
    } else if (typeof item === 'string') {
      throw new VeriteeError(ErrorCode.CRL_INVALID, 'no PEM CRL found', { path: itemPath });
    } else {
      out.push(parseCrl(item, itemPath));
    }
    if (out.length > MAX_CERTIFICATES) {
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'too many CRLs', { path });
    }
  }
  return out;
}
