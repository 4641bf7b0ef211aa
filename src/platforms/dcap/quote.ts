/**
 * Intel DCAP quotes, versions 3, 4 and 5: a strict, total parse by structure.
 *
 * Layouts follow:
 *  - [SGX-QL] Intel SGX ECDSA Quote Library API, Appendix A "ECDSA Quote Format" (quote v3: Quote Header,
 *    ISV Enclave Report Body, Quote Signature Data, ECDSA Signature Data, QE Certification Data).
 *  - [TDX-QL] Intel TDX DCAP Quoting Library API, Appendix A "Quote Format" (quote v4: TD Quote Header,
 *    TD Quote Body, Quote Signature Data with QE Report Certification Data (type 6); quote v5: Quote Body
 *    Descriptor with body types 1 SGX, 2 TD 1.0, 3 TD 1.5).
 *
 * Every length read from the input is checked against the bytes that are left before it is used, every
 * nested structure must consume exactly the bytes its length field declares, and reserved ranges of the
 * report bodies must be zero. Bytes after the signature data (several real quotes carry zero padding) are
 * allowed and counted in `trailingBytes` so the verifier can report them.
 *
 * `parseQuote` copies its input once; every byte field of the result is a view into that private copy, so
 * later changes to the caller's buffer cannot reach a parsed quote, and no field is copied twice. (The copy
 * is a region of a shared slab that no other quote uses; see `privateCopy`.)
 *
 * Does not check: any signature, the QE vendor ID, the PCK certificate chain (only its PEM framing is
 * read), the QE report data binding, or anything about TCB levels. See `verify.ts`.
 */
import { backend } from '#crypto';
import { ByteReader, isAllZero, requireZeros, utf8Decode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { AttestationKeyType, SGX_REPORT_SIZE, TeeTypeValue } from './header.js';

/** [TDX-QL] "TD Quote Body" for TDX 1.0 (TDREPORT fields): 584 bytes. */
export const TD10_REPORT_SIZE = 584;
/** [TDX-QL] "TD Quote Body" for TDX 1.5: 1.0 plus TEE_TCB_SVN_2 (16) and MRSERVICETD (48): 648 bytes. */
export const TD15_REPORT_SIZE = 648;
/** [TDX-QL] v5 "Quote Body Descriptor": type (u16) and size (u32). */
export const BODY_DESCRIPTOR_SIZE = 6;
/** ECDSA P-256 signature r‖s and public key x‖y sizes ([SGX-QL] "ECDSA Signature Data"). */
export const ECDSA_P256_SIGNATURE_SIZE = 64;
export const ECDSA_P256_KEY_SIZE = 64;

/** [TDX-QL] v5 Quote Body Descriptor "Type". */
export const BodyType = { SGX: 1, TD10: 2, TD15: 3 } as const;
/** [SGX-QL] QE Certification Data "Certification Data Type". */
export const CertificationDataType = { PCK_CHAIN: 5, QE_REPORT: 6 } as const;

/** Intel's QE vendor ID, 939A7233-F79C-4CA9-940A-0DB3957F0607 ([SGX-QL] Quote Header "QE Vendor ID"). */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';

/** Upper bound on a quote we parse; real quotes are 4–8 KiB. Guards every allocation below. */
export const MAX_QUOTE_SIZE = 1 << 20;

export type TeeType = 'sgx' | 'tdx';

export interface QuoteHeader {
  readonly version: 3 | 4 | 5;
  readonly attestationKeyType: number;
  readonly teeType: TeeType;
  /** v3: QE SVN; v4/v5: reserved (kept as read). */
  readonly qeSvn: number;
  /** v3: PCE SVN; v4/v5: reserved (kept as read). */
  readonly pceSvn: number;
  readonly qeVendorId: Uint8Array;
  readonly userData: Uint8Array;
}

/** sgx_report_body_t ([SGX-QL] "ISV Enclave Report Body"; also the QE report). */
export interface SgxReport {
  readonly cpuSvn: Uint8Array;
  readonly miscSelect: number;
  readonly isvExtProdId: Uint8Array;
  readonly attributes: Uint8Array;
  readonly mrEnclave: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly configId: Uint8Array;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly configSvn: number;
  readonly isvFamilyId: Uint8Array;
  readonly reportData: Uint8Array;
}

/** [TDX-QL] "TD Quote Body" (TDX 1.0 fields, plus the 1.5 additions when `version` is `1.5`). */
export interface TdReport {
  readonly version: '1.0' | '1.5';
  readonly teeTcbSvn: Uint8Array;
  readonly mrSeam: Uint8Array;
  readonly mrSignerSeam: Uint8Array;
  readonly seamAttributes: Uint8Array;
  readonly tdAttributes: Uint8Array;
  readonly xfam: Uint8Array;
  readonly mrTd: Uint8Array;
  readonly mrConfigId: Uint8Array;
  readonly mrOwner: Uint8Array;
  readonly mrOwnerConfig: Uint8Array;
  readonly rtmr: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  readonly reportData: Uint8Array;
  readonly teeTcbSvn2?: Uint8Array | undefined;
  readonly mrServiceTd?: Uint8Array | undefined;
}

export type QuoteBody =
  | { readonly kind: 'sgx'; readonly report: SgxReport }
  | { readonly kind: 'td10' | 'td15'; readonly report: TdReport };

/** The QE's part of the signature data: its report, signed by the PCK key, and the PCK chain. */
export interface QeCertification {
  readonly qeReport: SgxReport;
  /** The 384 bytes the PCK key signed. */
  readonly qeReportBytes: Uint8Array;
  readonly qeReportSignature: Uint8Array;
  readonly qeAuthData: Uint8Array;
  /** The PCK certificate chain as PEM text (a terminating NUL, as real quotes carry, removed). */
  readonly pckChainPem: string;
}

export interface Quote {
  readonly header: QuoteHeader;
  readonly body: QuoteBody;
  /** Header ‖ (v5 body descriptor ‖) body: the bytes the attestation key signed. */
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** Attestation public key x‖y (64 bytes). */
  readonly attestationKey: Uint8Array;
  readonly qe: QeCertification;
  /** Bytes after the signature data (not covered by any signature). */
  readonly trailingBytes: number;
  readonly trailingBytesAllZero: boolean;
}

function invalid(message: string, path: string, offset?: number, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, message, { path, offset, details });
}

function unsupported(message: string, path: string, offset?: number): VeriteeError {
  return new VeriteeError(ErrorCode.UNSUPPORTED, message, { path, offset });
}

/**
 * Runs a parse of a sub-range that starts at `base` inside the quote and makes the offsets of its errors
 * absolute (nested readers count from their own start).
 */
function shifted<T>(base: number, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof VeriteeError && error.offset !== undefined && base !== 0) {
      throw new VeriteeError(error.code, error.shortMessage, {
        path: error.path,
        offset: error.offset + base,
        details: error.details,
        cause: error.cause,
      });
    }
    throw error;
  }
}

/** Reads a 48-byte quote header ([SGX-QL]/[TDX-QL] "Quote Header"). */
function readHeader(reader: ByteReader): QuoteHeader {
  const version = reader.u16('header/version');
  if (version !== 3 && version !== 4 && version !== 5) {
    throw unsupported(`quote version ${version} is not supported (3, 4 or 5)`, 'quote/header/version', 0);
  }
  const attestationKeyType = reader.u16('header/attestationKeyType');
  if (attestationKeyType !== AttestationKeyType.ECDSA_P256) {
    const name = attestationKeyType === AttestationKeyType.ECDSA_P384 ? ' (ECDSA P-384)' : '';
    throw unsupported(
      `attestation key type ${attestationKeyType}${name} is not supported: only ECDSA P-256 (2)`,
      'quote/header/attestationKeyType',
      2,
    );
  }
  // Offset 4: v3 "Reserved" (zero, i.e. SGX); v4/v5 "TEE Type".
  const teeTypeRaw = reader.u32('header/teeType');
  let teeType: TeeType;
  if (teeTypeRaw === TeeTypeValue.SGX) teeType = 'sgx';
  else if (teeTypeRaw === TeeTypeValue.TDX && version !== 3) teeType = 'tdx';
  else throw invalid(`unknown TEE type 0x${teeTypeRaw.toString(16)}`, 'quote/header/teeType', 4);
  const qeSvn = reader.u16('header/qeSvn');
  const pceSvn = reader.u16('header/pceSvn');
  const qeVendorId = reader.bytesView(16, 'header/qeVendorId');
  const userData = reader.bytesView(20, 'header/userData');
  return { version, attestationKeyType, teeType, qeSvn, pceSvn, qeVendorId, userData };
}

function u16At(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

/** Parses a 384-byte sgx_report_body_t; reserved ranges must be zero. Fields are views into `bytes`. */
export function parseSgxReport(bytes: Uint8Array, path: string): SgxReport {
  if (bytes.length !== SGX_REPORT_SIZE) return readSgxReport(bytes, path);
  // The fixed layout read directly (no reader per report): the same fields and checks, in the same order.
  requireZeros(bytes, 20, 12, path, 'reserved1');
  requireZeros(bytes, 96, 32, path, 'reserved2');
  requireZeros(bytes, 160, 32, path, 'reserved3');
  requireZeros(bytes, 262, 42, path, 'reserved4');
  return {
    cpuSvn: bytes.subarray(0, 16),
    miscSelect: (u16At(bytes, 16) | (u16At(bytes, 18) << 16)) >>> 0,
    isvExtProdId: bytes.subarray(32, 48),
    attributes: bytes.subarray(48, 64),
    mrEnclave: bytes.subarray(64, 96),
    mrSigner: bytes.subarray(128, 160),
    configId: bytes.subarray(192, 256),
    isvProdId: u16At(bytes, 256),
    isvSvn: u16At(bytes, 258),
    configSvn: u16At(bytes, 260),
    isvFamilyId: bytes.subarray(304, 320),
    reportData: bytes.subarray(320, 384),
  };
}

/** {@link parseSgxReport} with a reader, which names the error for input of another length (exported for tests). */
export function readSgxReport(bytes: Uint8Array, path: string): SgxReport {
  const r = new ByteReader(bytes, path);
  const cpuSvn = r.bytesView(16, 'cpuSvn'); // offset 0
  const miscSelect = r.u32('miscSelect'); // 16
  r.zeros(12, 'reserved1'); // 20
  const isvExtProdId = r.bytesView(16, 'isvExtProdId'); // 32
  const attributes = r.bytesView(16, 'attributes'); // 48
  const mrEnclave = r.bytesView(32, 'mrEnclave'); // 64
  r.zeros(32, 'reserved2'); // 96
  const mrSigner = r.bytesView(32, 'mrSigner'); // 128
  r.zeros(32, 'reserved3'); // 160
  const configId = r.bytesView(64, 'configId'); // 192
  const isvProdId = r.u16('isvProdId'); // 256
  const isvSvn = r.u16('isvSvn'); // 258
  const configSvn = r.u16('configSvn'); // 260
  r.zeros(42, 'reserved4'); // 262
  const isvFamilyId = r.bytesView(16, 'isvFamilyId'); // 304
  const reportData = r.bytesView(64, 'reportData'); // 320
  r.finish();
  return {
    cpuSvn,
    miscSelect,
    isvExtProdId,
    attributes,
    mrEnclave,
    mrSigner,
    configId,
    isvProdId,
    isvSvn,
    configSvn,
    isvFamilyId,
    reportData,
  };
}

/**
 * Parses a TD quote body ([TDX-QL] "TD Quote Body"), 584 bytes (1.0) or 648 bytes (1.5). Fields are views
 * into `bytes`.
 */
export function parseTdReport(bytes: Uint8Array, version: '1.0' | '1.5', path: string): TdReport {
  const is15 = version === '1.5';
  if (bytes.length !== (is15 ? TD15_REPORT_SIZE : TD10_REPORT_SIZE))
    return readTdReport(bytes, version, path);
  // The fixed layout read directly (no reader per report); the offsets are those of `readTdReport`.
  return {
    version,
    teeTcbSvn: bytes.subarray(0, 16),
    mrSeam: bytes.subarray(16, 64),
    mrSignerSeam: bytes.subarray(64, 112),
    seamAttributes: bytes.subarray(112, 120),
    tdAttributes: bytes.subarray(120, 128),
    xfam: bytes.subarray(128, 136),
    mrTd: bytes.subarray(136, 184),
    mrConfigId: bytes.subarray(184, 232),
    mrOwner: bytes.subarray(232, 280),
    mrOwnerConfig: bytes.subarray(280, 328),
    rtmr: [
      bytes.subarray(328, 376),
      bytes.subarray(376, 424),
      bytes.subarray(424, 472),
      bytes.subarray(472, 520),
    ],
    reportData: bytes.subarray(520, 584),
    teeTcbSvn2: is15 ? bytes.subarray(584, 600) : undefined,
    mrServiceTd: is15 ? bytes.subarray(600, 648) : undefined,
  };
}

/** {@link parseTdReport} with a reader, which names the error for input of another length (exported for tests). */
export function readTdReport(bytes: Uint8Array, version: '1.0' | '1.5', path: string): TdReport {
  const r = new ByteReader(bytes, path);
  const teeTcbSvn = r.bytesView(16, 'teeTcbSvn'); // 0
  const mrSeam = r.bytesView(48, 'mrSeam'); // 16
  const mrSignerSeam = r.bytesView(48, 'mrSignerSeam'); // 64
  const seamAttributes = r.bytesView(8, 'seamAttributes'); // 112
  const tdAttributes = r.bytesView(8, 'tdAttributes'); // 120
  const xfam = r.bytesView(8, 'xfam'); // 128
  const mrTd = r.bytesView(48, 'mrTd'); // 136
  const mrConfigId = r.bytesView(48, 'mrConfigId'); // 184
  const mrOwner = r.bytesView(48, 'mrOwner'); // 232
  const mrOwnerConfig = r.bytesView(48, 'mrOwnerConfig'); // 280
  const rtmr = [
    r.bytesView(48, 'rtmr0'),
    r.bytesView(48, 'rtmr1'),
    r.bytesView(48, 'rtmr2'),
    r.bytesView(48, 'rtmr3'),
  ] as const; // 328
  const reportData = r.bytesView(64, 'reportData'); // 520
  let teeTcbSvn2: Uint8Array | undefined;
  let mrServiceTd: Uint8Array | undefined;
  if (version === '1.5') {
    teeTcbSvn2 = r.bytesView(16, 'teeTcbSvn2'); // 584
    mrServiceTd = r.bytesView(48, 'mrServiceTd'); // 600
  }
  r.finish();
  return {
    version,
    teeTcbSvn,
    mrSeam,
    mrSignerSeam,
    seamAttributes,
    tdAttributes,
    xfam,
    mrTd,
    mrConfigId,
    mrOwner,
    mrOwnerConfig,
    rtmr,
    reportData,
    teeTcbSvn2,
    mrServiceTd,
  };
}

/** Reads the report body that follows the header, by version and TEE type. */
function readBody(reader: ByteReader, header: QuoteHeader): QuoteBody {
  if (header.version !== 5) {
    const start = reader.offset;
    if (header.teeType === 'sgx') {
      const bytes = reader.bytesView(SGX_REPORT_SIZE, 'body');
      return { kind: 'sgx', report: shifted(start, () => parseSgxReport(bytes, 'quote/body')) };
    }
    const bytes = reader.bytesView(TD10_REPORT_SIZE, 'body');
    return { kind: 'td10', report: shifted(start, () => parseTdReport(bytes, '1.0', 'quote/body')) };
  }
  const typeOffset = reader.offset;
  const type = reader.u16('bodyDescriptor/type');
  const size = reader.u32('bodyDescriptor/size');
  const expected =
    type === BodyType.SGX
      ? SGX_REPORT_SIZE
      : type === BodyType.TD10
        ? TD10_REPORT_SIZE
        : type === BodyType.TD15
          ? TD15_REPORT_SIZE
          : undefined;
  if (expected === undefined) {
    throw unsupported(
      `quote body type ${type} is not supported (1, 2 or 3)`,
      'quote/bodyDescriptor/type',
      typeOffset,
    );
  }
  if ((type === BodyType.SGX) !== (header.teeType === 'sgx')) {
    throw invalid(
      `quote body type ${type} does not match TEE type ${header.teeType}`,
      'quote/bodyDescriptor/type',
      typeOffset,
    );
  }
  if (size !== expected) {
    throw invalid(
      `quote body type ${type} must be ${expected} bytes, descriptor says ${size}`,
      'quote/bodyDescriptor/size',
      typeOffset + 2,
    );
  }
  const start = reader.offset;
  const bytes = reader.bytesView(size, 'body');
  if (type === BodyType.SGX) {
    return { kind: 'sgx', report: shifted(start, () => parseSgxReport(bytes, 'quote/body')) };
  }
  const version = type === BodyType.TD10 ? '1.0' : '1.5';
  const report = shifted(start, () => parseTdReport(bytes, version, 'quote/body'));
  return { kind: version === '1.0' ? 'td10' : 'td15', report };
}

/** Reads a QE Certification Data header (type u16, size u32) and returns its type and contents. */
function readCertificationData(
  reader: ByteReader,
  field: string,
): { type: number; data: Uint8Array; offset: number } {
  const offset = reader.offset;
  const type = reader.u16(`${field}/type`);
  const size = reader.u32(`${field}/size`);
  const data = reader.bytesView(size, `${field}/data`);
  return { type, data, offset };
}

// One or more PEM certificate blocks separated by whitespace, and nothing else. The base64 class holds no
// `-`, so each block can match in only one way (no backtracking blow-up) and a test needs no replaced copy.
const PEM_CERTIFICATES = /^\s*(?:-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*-----END CERTIFICATE-----\s*)+$/;

/**
 * PCK chain PEM from certification data type 5. Real quotes count a terminating NUL in the size; NULs are
 * accepted only at the very end. Anything other than PEM blocks and whitespace is refused.
 */
function readPckChainPem(data: Uint8Array, path: string): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  const raw = data.subarray(0, end);
  const key = prefixKey(raw);
  const known = checkedPckChains.get(key);
  if (known !== undefined && backend.sameBytes(known.bytes, raw)) return known.text;
  const text = utf8Decode(raw, path);
  if (/^\s*$/.test(text)) throw invalid('PCK certificate chain is empty', path);
  if (!PEM_CERTIFICATES.test(text)) {
    throw invalid('PCK certificate chain contains text outside PEM certificate blocks', path);
  }
  checkedPckChains.delete(key);
  if (checkedPckChains.size >= CHECKED_LIMIT) {
    checkedPckChains.delete(checkedPckChains.keys().next().value as number);
  }
  checkedPckChains.set(key, { bytes: raw.slice(), text });
  return text;
}

/** FNV-1a over the first bytes of a chain, which hold the PCK certificate's serial number: a map key only. */
function prefixKey(raw: Uint8Array): number {
  const n = Math.min(raw.length, CHECKED_KEY_LENGTH);
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ raw[i]!, 0x01000193);
  return h >>> 0;
}

// PCK chains that passed the checks above, with their text. A platform puts the same chain in every quote,
// so it is decoded and scanned once; later quotes whose chain bytes are equal to the remembered copy
// (compared in full) get the remembered string, which also makes it cheap to use as a map key downstream
// (its hash is already computed). Indexed by a hash of the start of the chain (a lookup key, never taken
// for equality); a chain whose key is taken by another replaces it. Bounded.
const CHECKED_KEY_LENGTH = 160;
const CHECKED_LIMIT = 1024;
const checkedPckChains = new Map<number, { readonly bytes: Uint8Array; readonly text: string }>();

/** Forgets the PCK chain texts that passed the checks (with the other per-platform caches). */
export function clearCheckedPckChains(): void {
  checkedPckChains.clear();
}

/** Reads QE report, its signature, QE authentication data and the inner PCK chain (type 5). */
function readQeCertification(reader: ByteReader, base: string): QeCertification {
  const qeReportStart = reader.offset;
  const qeReportBytes = reader.bytesView(SGX_REPORT_SIZE, 'qeReport');
  const qeReport = shifted(qeReportStart, () => parseSgxReport(qeReportBytes, `${base}/qeReport`));
  const qeReportSignature = reader.bytesView(ECDSA_P256_SIGNATURE_SIZE, 'qeReportSignature');
  const authSize = reader.u16('qeAuthData/size');
  const qeAuthData = reader.bytesView(authSize, 'qeAuthData/data');
  const cert = readCertificationData(reader, 'certificationData');
  if (cert.type !== CertificationDataType.PCK_CHAIN) {
    throw unsupported(
      `QE certification data type ${cert.type} is not supported: a PCK certificate chain (type 5) is needed`,
      `${base}/certificationData/type`,
      cert.offset,
    );
  }
  const pckChainPem = shifted(cert.offset + 6, () =>
    readPckChainPem(cert.data, `${base}/certificationData/data`),
  );
  reader.finish();
  return { qeReport, qeReportBytes, qeReportSignature, qeAuthData, pckChainPem };
}

/**
 * Parses the Quote Signature Data ([SGX-QL] "Quote Signature Data" / "ECDSA Signature Data"): quote
 * signature, attestation key, then for v3 the QE report directly, for v4/v5 a certification data entry of
 * type 6 ("QE Report Certification Data") wrapping the QE report and a type 5 PCK chain.
 */
function readSignatureData(
  bytes: Uint8Array,
  version: 3 | 4 | 5,
  absolute: number,
): { signature: Uint8Array; attestationKey: Uint8Array; qe: QeCertification } {
  return shifted(absolute, () => readSignatureDataRelative(bytes, version));
}

/** {@link readSignatureData} with offsets relative to the start of the signature data. */
function readSignatureDataRelative(
  bytes: Uint8Array,
  version: 3 | 4 | 5,
): { signature: Uint8Array; attestationKey: Uint8Array; qe: QeCertification } {
  const reader = new ByteReader(bytes, 'quote/signatureData');
  const signature = reader.bytesView(ECDSA_P256_SIGNATURE_SIZE, 'signature');
  const attestationKey = reader.bytesView(ECDSA_P256_KEY_SIZE, 'attestationKey');
  if (version === 3) {
    return { signature, attestationKey, qe: readQeCertification(reader, 'quote/signatureData') };
  }
  const outer = readCertificationData(reader, 'certificationData');
  if (outer.type !== CertificationDataType.QE_REPORT) {
    throw unsupported(
      `quote v${version} certification data type ${outer.type} is not supported: QE report certification data (type 6) is needed`,
      'quote/signatureData/certificationData/type',
      outer.offset,
    );
  }
  reader.finish();
  const innerStart = outer.offset + 6;
  const innerPath = 'quote/signatureData/certificationData/qeReportCertificationData';
  const inner = new ByteReader(outer.data, innerPath);
  const qe = shifted(innerStart, () => readQeCertification(inner, innerPath));
  return { signature, attestationKey, qe };
}

// Quote copies are carved from shared slabs, one after another, as Node's Buffer pool does: allocating an
// ArrayBuffer per quote cost more than the rest of the parse. A region is written once, when its quote is
// parsed, and never reused, so no quote can see another's bytes; a slab is freed when nothing refers to
// any of its quotes (a retained quote keeps at most one slab alive). Larger quotes get their own copy.
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_COPY = 16 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/** A private copy of `input` that nothing else writes to. */
function privateCopy(input: Uint8Array): Uint8Array {
  const length = input.length;
  if (length > SLAB_MAX_COPY) return input.slice();
  if (slabUsed + length > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const start = slabUsed;
  // 8-byte aligned starts, so views of the copy may be read with any element size.
  slabUsed = (start + length + 7) & ~7;
  slab.set(input, start);
  return slab.subarray(start, start + length);
}

/**
 * Parses a DCAP quote. Total: returns a `Quote` or throws a `VeriteeError` (PARSE_*, UNSUPPORTED) naming
 * the field path and byte offset.
 */
export function parseQuote(input: Uint8Array): Quote {
  if (!(input instanceof Uint8Array)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'quote must be a Uint8Array', { path: 'quote' });
  }
  if (input.length > MAX_QUOTE_SIZE) {
    throw new VeriteeError(
      ErrorCode.PARSE_LIMIT_EXCEEDED,
      `quote is ${input.length} bytes, at most ${MAX_QUOTE_SIZE}`,
      {
        path: 'quote',
      },
    );
  }
  const bytes = privateCopy(input);
  const reader = new ByteReader(bytes, 'quote');
  const header = readHeader(reader);
  const body = readBody(reader, header);
  const signedBytes = bytes.subarray(0, reader.offset);
  const sigLength = reader.u32('signatureDataLength');
  const sigOffset = reader.offset;
  const sigBytes = reader.bytesView(sigLength, 'signatureData');
  const { signature, attestationKey, qe } = readSignatureData(sigBytes, header.version, sigOffset);
  const trailing = bytes.subarray(reader.offset);
  return {
    header,
    body,
    signedBytes,
    signature,
    attestationKey,
    qe,
    trailingBytes: trailing.length,
    trailingBytesAllZero: isAllZero(trailing),
  };
}
