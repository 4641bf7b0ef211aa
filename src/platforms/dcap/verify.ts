/**
 * Verifies an Intel DCAP quote (SGX or TDX) with its collateral at an explicit time `at`, the way Intel's
 * Quote Verification Library does:
 *
 *  1. the quote parses (`quote.ts`) and its QE vendor ID is Intel's;
 *  2. collateral signatures verify (`collateral.ts`, cached by content hash) and, at `at`, its issuer
 *     chains reach the trust anchor, the signers are not revoked and every date window holds (a policy
 *     grace period turns staleness into a warning);
 *  3. the collateral is for this quote: TCB Info id SGX/TDX and QE Identity id QE/TD_QE match the TEE type,
 *     FMSPC and PCE-ID match the PCK certificate (compared as bytes), the PCK CRL is issued by the PCK
 *     certificate's own CA;
 *  4. the PCK chain from the quote (PCK → PCK Platform/Processor CA → Root CA) is valid at `at`, ends at the
 *     same anchor as the collateral, and neither the PCK certificate nor its CA is revoked;
 *  5. the QE report is signed by the PCK key; its report data is SHA-256(attestation key ‖ QE
 *     authentication data) followed by 32 zero bytes; the quote (header ‖ body) is signed by the
 *     attestation key;
 *  6. the TCB evaluation (`tcb.ts`) yields a status, advisories, tcbDate and evaluation data number.
 *
 * Does not check: any appraisal policy — allowed TCB statuses, advisories, measurements, debug, report
 * data — see `appraise.ts` and the common appraiser. A `Revoked` TCB status is returned, not thrown; the
 * appraisal never accepts it. A revoked PCK certificate or CA is an error (CERT_REVOKED).
 */
import { backend } from '#crypto';
import { concatBytes, equalBytes, fromHex, isAllZero, regionHex, toHex } from '../../bytes.js';
import type { PublicKey } from '../../crypto/types.js';
import { ErrorCode, VeriteeError, wrapErrors } from '../../errors.js';
import {
  type Certificate,
  checkCrlCovers,
  checkSerialNotRevoked,
  INTEL_SGX_ROOT_CA,
  isSimulatorAnchor,
  parsePemCertificates,
  pinnedAnchor,
  publicKeyOf,
  sameAnchor,
  type TrustAnchor,
  type VerifiedChain,
} from '../../pki/index.js';
import type { Policy } from '../../policy/types.js';
import type { Check, CommonClaims, Issue, VerifiedEvidence } from '../../result.js';
import { knownChain, verifyChainMemo } from './chains.js';
import {
  checkCollateralAt,
  knownSignatures,
  parseDcapCollateral,
  type SignedCollateral,
  verifyCollateralSignatures,
} from './collateral.js';
import { expectCommonName, IntelName, type PckExtension, parsePckExtension, type SgxType } from './pck.js';
import { tcbPolicyOf } from './policy.js';
import {
  clearCheckedPckChains,
  INTEL_QE_VENDOR_ID,
  parseQuote,
  type QeCertification,
  type Quote,
  type SgxReport,
  type TdReport,
  type TeeType,
} from './quote.js';
import { evaluateTcb, type TcbEvaluation } from './tcb.js';
import type { TcbStatus } from './tcb-status.js';

export interface DcapVerifyOptions {
  /** Verification time. */
  readonly at: Date;
  /** Trust anchors replacing the embedded Intel SGX Root CA (never merged with it). */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /**
   * Simulator roots the caller trusts explicitly (`veritee/runtime` `simulatorAnchors`). A quote whose PCK
   * chain and collateral end at one verifies as platform `sim` (claims.simulatedPlatform `tdx`/`sgx`).
   */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
  /** Collateral in any shape `parseDcapCollateral` accepts. */
  readonly collateral: unknown;
  /** Only `tcb.collateralGraceSeconds` is read here. */
  readonly policy?: Policy | undefined;
}

/** SGX enclave claims (lowercase hex for byte values). */
export interface SgxClaims {
  readonly mrenclave: string;
  readonly mrsigner: string;
  readonly isvProdId: number;
  readonly isvSvn: number;
  readonly attributes: string;
  readonly attributeFlags: {
    readonly init: boolean;
    readonly debug: boolean;
    readonly mode64bit: boolean;
    readonly provisionKey: boolean;
    readonly einitTokenKey: boolean;
    readonly kss: boolean;
    readonly aexNotify: boolean;
  };
  readonly miscSelect: string;
  readonly configId: string;
  readonly configSvn: number;
  readonly isvExtProdId: string;
  readonly isvFamilyId: string;
  readonly cpuSvn: string;
  readonly reportData: string;
}

/** TDX TD claims (lowercase hex for byte values). */
export interface TdxClaims {
  readonly tdReportVersion: '1.0' | '1.5';
  readonly mrtd: string;
  readonly rtmr: readonly [string, string, string, string];
  readonly mrseam: string;
  readonly mrsignerseam: string;
  readonly mrconfigid: string;
  readonly mrowner: string;
  readonly mrownerconfig: string;
  readonly mrservicetd?: string | undefined;
  readonly teeTcbSvn: string;
  readonly teeTcbSvn2?: string | undefined;
  readonly seamAttributes: string;
  readonly tdAttributes: string;
  readonly tdAttributeFlags: {
    readonly debug: boolean;
    readonly septVeDisable: boolean;
    readonly pks: boolean;
    readonly kl: boolean;
    readonly perfmon: boolean;
  };
  readonly xfam: string;
  readonly reportData: string;
}

export interface DcapTcbClaims {
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly tcbDate: string;
  readonly evaluationDataNumber: number;
  readonly qeEvaluationDataNumber: number;
  readonly platformStatus: TcbStatus;
  readonly qeStatus: TcbStatus;
  readonly tdxModule?: { readonly id: string; readonly status: TcbStatus } | undefined;
  /** When the platform first fell behind, for out-of-date statuses. */
  readonly outOfDateSince?: string | undefined;
}

/**
 * Everything DCAP-specific in the result (`claims` in the JSON). A type alias, not an interface, so it
 * fits the generic `Record<string, unknown>` claims slot.
 */
export type DcapClaims = {
  readonly teeType: TeeType;
  readonly quoteVersion: 3 | 4 | 5;
  readonly body: 'sgx' | 'td10' | 'td15';
  readonly fmspc: string;
  readonly pceId: string;
  readonly ppid: string;
  readonly sgxType: SgxType;
  readonly pckCa: 'platform' | 'processor';
  /** The PCK certificate's validity and serial number. */
  readonly pckCertificate: {
    readonly serialNumber: string;
    readonly notBefore: string;
    readonly notAfter: string;
  };
  readonly pceSvn: number;
  readonly tcbComponents: readonly number[];
  readonly qe: { readonly isvSvn: number; readonly isvProdId: number; readonly mrsigner: string };
  readonly sgx?: SgxClaims | undefined;
  readonly tdx?: TdxClaims | undefined;
  readonly tcb: DcapTcbClaims;
  /** Present only on simulator evidence: the platform the simulator imitated. */
  readonly simulatedPlatform?: TeeType | undefined;
  readonly collateral: {
    readonly tcbInfo: {
      readonly id: string;
      readonly version: number;
      readonly issueDate: string;
      readonly nextUpdate: string;
    };
    readonly qeIdentity: { readonly id: string; readonly issueDate: string; readonly nextUpdate: string };
    readonly pckCrl: { readonly thisUpdate: string; readonly nextUpdate: string | undefined };
    readonly rootCaCrl: { readonly thisUpdate: string; readonly nextUpdate: string | undefined };
  };
  /** Bytes after the signature data (not signed). */
  readonly trailingBytes: number;
};

const INTEL_QE_VENDOR_ID_BYTES = fromHex(INTEL_QE_VENDOR_ID);

const P256_P1363 = { kind: 'ecdsa', hash: 'SHA-256', encoding: 'p1363' } as const;

// Attestation keys seen recently → imported key. A platform keeps its key across many quotes; a key is
// only a key, so reusing the import is safe. Bounded.
const AK_CACHE_LIMIT = 256;
const attestationKeys = new Map<string, PublicKey>();

function importAttestationKey(raw: Uint8Array): PublicKey {
  const id = toHex(raw);
  const cached = attestationKeys.get(id);
  if (cached !== undefined) return cached;
  const key = wrapErrors(
    ErrorCode.KEY_INVALID,
    'attestation key is not a valid P-256 point',
    () => backend.importEcPoint('P-256', concatBytes(new Uint8Array([0x04]), raw)),
    'quote/signatureData/attestationKey',
  );
  if (attestationKeys.size >= AK_CACHE_LIMIT)
    attestationKeys.delete(attestationKeys.keys().next().value as string);
  attestationKeys.set(id, key);
  return key;
}

/** Step 5 (QE report signature): the PCK key signed the QE report. */
async function verifyQeReportSignature(quote: Quote, pck: Certificate): Promise<void> {
  const ok = await backend.verify(
    publicKeyOf(pck),
    P256_P1363,
    quote.qe.qeReportBytes,
    quote.qe.qeReportSignature,
  );
  if (!ok) {
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'QE report signature does not verify with the PCK key', {
      path: 'quote/signatureData/qeReportSignature',
    });
  }
}

/**
 * A platform's certification data as already verified. A platform sends the same PCK chain, QE report and QE
 * report signature in every quote it makes with one attestation key, and what those bytes establish without
 * reference to time is remembered: the parsed PCK chain with its SGX extension, and that the PCK key signed
 * the QE report. An entry is found by the PCK chain text and used only when the QE report and its signature
 * equal the remembered ones too, so it stands for exactly the bytes it was made from. The chain's validity
 * at `at`, its trust anchor and revocation are checked on every use.
 */
interface VerifiedCertification {
  readonly qeReportBytes: Uint8Array;
  readonly qeReportSignature: Uint8Array;
  readonly pckChain: PckChain;
  /** Hex of the QE report's MRSIGNER (a pure function of `qeReportBytes`). */
  readonly qeMrSigner: string;
  /** The attestation key last imported for this platform, with its raw bytes (used only when equal). */
  attestationKey?: { readonly raw: Uint8Array; readonly key: PublicKey } | undefined;
  /** Hex of the signed bytes of the last quote verified for this platform (used only when equal). */
  signedHex?: { readonly bytes: Uint8Array; readonly hex: string } | undefined;
}

const CERTIFICATION_CACHE_LIMIT = 1024;
const verifiedCertifications = new Map<string, VerifiedCertification>();

function knownCertification(qe: QeCertification): VerifiedCertification | undefined {
  const entry = verifiedCertifications.get(qe.pckChainPem);
  if (entry === undefined) return undefined;
  const same =
    backend.sameBytes(entry.qeReportSignature, qe.qeReportSignature) &&
    backend.sameBytes(entry.qeReportBytes, qe.qeReportBytes);
  return same ? entry : undefined;
}

function rememberCertification(qe: QeCertification, pckChain: PckChain): VerifiedCertification {
  verifiedCertifications.delete(qe.pckChainPem);
  if (verifiedCertifications.size >= CERTIFICATION_CACHE_LIMIT)
    verifiedCertifications.delete(verifiedCertifications.keys().next().value as string);
  // Copies, so the entry does not keep the whole quote alive.
  const entry: VerifiedCertification = {
    qeReportBytes: qe.qeReportBytes.slice(),
    qeReportSignature: qe.qeReportSignature.slice(),
    pckChain,
    qeMrSigner: toHex(qe.qeReport.mrSigner),
  };
  verifiedCertifications.set(qe.pckChainPem, entry);
  return entry;
}

/**
 * Hex of the quote's signed bytes, which the claims are sliced from. A platform that sends the same
 * report again (the same measurements and report data) gets the encoding made for the previous one; the
 * remembered copy is compared byte for byte first.
 */
function signedBytesHex(entry: VerifiedCertification, signedBytes: Uint8Array): string {
  const last = entry.signedHex;
  if (last !== undefined && backend.sameBytes(last.bytes, signedBytes)) return last.hex;
  const hex = toHex(signedBytes);
  entry.signedHex = { bytes: signedBytes.slice(), hex };
  return hex;
}

/** Forgets cached attestation keys, verified certification data and checked PCK chain texts. */
export function clearQuoteCaches(): void {
  attestationKeys.clear();
  verifiedCertifications.clear();
  clearCheckedPckChains();
}

function checkQeReportData(quote: Quote): void {
  const expected = backend.hashParts('SHA-256', [quote.attestationKey, quote.qe.qeAuthData]);
  const reportData = quote.qe.qeReport.reportData;
  if (!equalBytes(reportData.subarray(0, 32), expected) || !isAllZero(reportData.subarray(32))) {
    throw new VeriteeError(
      ErrorCode.EVIDENCE_INVALID,
      'QE report data does not bind the attestation key: expected SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes',
      { path: 'quote/signatureData/qeReport/reportData' },
    );
  }
}

/** The imported attestation key: the platform's last one when the bytes are equal, else from the key cache. */
function attestationKeyOf(entry: VerifiedCertification, raw: Uint8Array): PublicKey {
  const last = entry.attestationKey;
  if (last !== undefined && backend.sameBytes(last.raw, raw)) return last.key;
  const key = importAttestationKey(raw);
  entry.attestationKey = { raw: raw.slice(), key };
  return key;
}

async function verifyQuoteSignature(quote: Quote, key: PublicKey): Promise<void> {
  if (!(await backend.verify(key, P256_P1363, quote.signedBytes, quote.signature))) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      'quote signature does not verify with the attestation key',
      {
        path: 'quote/signatureData/signature',
      },
    );
  }
}

function mismatch(message: string, path: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_MISMATCH, message, { path, details });
}

/** Step 3 (names): the collateral's ids must fit the quote's TEE type. */
function checkCollateralKind(quote: Quote, signed: SignedCollateral): void {
  const tee = quote.header.teeType;
  const tcbId = tee === 'sgx' ? 'SGX' : 'TDX';
  const qeId = tee === 'sgx' ? 'QE' : 'TD_QE';
  if (signed.tcbInfo.id !== tcbId) {
    throw mismatch(
      `TCB Info id is "${signed.tcbInfo.id}", a ${tee.toUpperCase()} quote needs "${tcbId}"`,
      'collateral/tcbInfo/id',
    );
  }
  if (signed.qeIdentity.id !== qeId) {
    throw mismatch(
      `QE Identity id is "${signed.qeIdentity.id}", a ${tee.toUpperCase()} quote needs "${qeId}"`,
      'collateral/qeIdentity/id',
    );
  }
}

/** Step 3 (platform): FMSPC and PCE-ID of the TCB Info equal the PCK certificate's, as bytes. */
function checkCollateralPlatform(pck: PckExtension, signed: SignedCollateral): void {
  if (!equalBytes(pck.fmspc, signed.tcbInfo.fmspc)) {
    throw mismatch(
      'TCB Info is for another FMSPC',
      'collateral/tcbInfo/fmspc',
      `PCK FMSPC ${toHex(pck.fmspc)}, TCB Info ${toHex(signed.tcbInfo.fmspc)}`,
    );
  }
  if (!equalBytes(pck.pceId, signed.tcbInfo.pceId)) {
    throw mismatch(
      'TCB Info is for another PCE-ID',
      'collateral/tcbInfo/pceId',
      `PCK PCE-ID ${toHex(pck.pceId)}, TCB Info ${toHex(signed.tcbInfo.pceId)}`,
    );
  }
}

/** The DCAP claims that come from the PCK certificate alone. */
type PckClaims = Pick<
  DcapClaims,
  'fmspc' | 'pceId' | 'ppid' | 'sgxType' | 'pckCa' | 'pckCertificate' | 'pceSvn' | 'tcbComponents'
>;

interface PckChain {
  readonly certificates: readonly [Certificate, Certificate, Certificate];
  readonly extension: PckExtension;
  readonly caName: string;
  /** Built once per platform and frozen: every result for the platform shares it. */
  readonly claims: PckClaims;
  /**
   * The collateral this chain's CA and certificates were last found to pair with (its PCK CRL issued by
   * this CA, each CRL naming the issuer of the certificate it is checked against). Those comparisons are of
   * bytes of these two unchanging objects only; revoked serials are still looked up on every use.
   */
  pairedWith?: SignedCollateral | undefined;
}

function pckClaims(leaf: Certificate, extension: PckExtension, caName: string): PckClaims {
  return Object.freeze({
    fmspc: toHex(extension.fmspc),
    pceId: toHex(extension.pceId),
    ppid: toHex(extension.ppid),
    sgxType: extension.sgxType,
    pckCa: caName === IntelName.pckPlatformCa ? 'platform' : 'processor',
    pckCertificate: Object.freeze({
      serialNumber: leaf.serialNumber,
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
    }),
    pceSvn: extension.pceSvn,
    tcbComponents: Object.freeze([...extension.tcbComponents]),
  });
}

/** Parses the quote's PCK chain (PCK, PCK CA, Root CA): certificates, names and the SGX extension. */
function parsePckChain(pem: string): PckChain {
  const path = 'quote/pckChain';
  const certificates = parsePemCertificates(pem, path);
  if (certificates.length !== 3) {
    throw new VeriteeError(
      ErrorCode.CHAIN_BROKEN,
      `PCK chain must hold 3 certificates (PCK, PCK CA, Root CA), found ${certificates.length}`,
      { path },
    );
  }
  const [leaf, ca] = certificates as [Certificate, Certificate, Certificate];
  expectCommonName(leaf, [IntelName.pck], `${path}[0]`);
  const caName = expectCommonName(ca, [IntelName.pckPlatformCa, IntelName.pckProcessorCa], `${path}[1]`);
  if (leaf.isCa === true) {
    throw new VeriteeError(ErrorCode.CHAIN_BROKEN, 'PCK certificate must not be a CA', {
      path: `${path}[0]`,
    });
  }
  const extension = parsePckExtension(leaf, `${path}[0]`);
  return {
    certificates: certificates as [Certificate, Certificate, Certificate],
    extension,
    caName,
    claims: pckClaims(leaf, extension, caName),
  };
}

const PCK_CHAIN_PATH = 'quote/pckChain';

/**
 * Step 4: the quote's PCK chain is valid at `at` up to the collateral's anchor, neither the PCK certificate
 * nor its CA is revoked, and the PCK CRL is its CA's. Returns when the chain stops being valid.
 */
async function verifyPckChain(
  pckChain: PckChain,
  signed: SignedCollateral,
  at: Date,
  anchors: readonly TrustAnchor[],
  anchor: TrustAnchor,
): Promise<Date> {
  const options = { at, anchors, path: PCK_CHAIN_PATH, maxLength: 3 };
  const chain = await verifyChainMemo(pckChain.certificates, options);
  return checkVerifiedPckChain(pckChain, chain, signed, anchor);
}

/** {@link verifyPckChain} when its chain is memoised for `at` and `anchors` (no await), else undefined. */
function verifyPckChainNow(
  pckChain: PckChain,
  signed: SignedCollateral,
  at: Date,
  anchors: readonly TrustAnchor[],
  anchor: TrustAnchor,
): Date | undefined {
  const chain = knownChain(pckChain.certificates, { at, anchors, maxLength: 3 });
  return chain === undefined ? undefined : checkVerifiedPckChain(pckChain, chain, signed, anchor);
}

/** The rest of step 4 once the chain is verified at `at`: its anchor, the CRL pairing and revocation. */
function checkVerifiedPckChain(
  pckChain: PckChain,
  chain: VerifiedChain,
  signed: SignedCollateral,
  anchor: TrustAnchor,
): Date {
  const path = PCK_CHAIN_PATH;
  const [leaf, ca] = pckChain.certificates;
  if (!sameAnchor(chain.anchor, anchor)) {
    throw new VeriteeError(
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
      'PCK chain and collateral end at different roots',
      { path },
    );
  }
  if (pckChain.pairedWith !== signed) {
    const crlIssuer = signed.pckCrlChain[0]!;
    if (!equalBytes(crlIssuer.subjectDer, ca.subjectDer) || !equalBytes(crlIssuer.spki, ca.spki)) {
      throw new VeriteeError(
        ErrorCode.CRL_ISSUER_MISMATCH,
        `PCK CRL is issued by "${crlIssuer.subject}" but the PCK certificate chains to "${ca.subject}"`,
        { path: 'collateral/pckCrl' },
      );
    }
    checkCrlCovers(leaf, signed.pckCrl, `${path}[0]`);
    checkCrlCovers(ca, signed.rootCaCrl, `${path}[1]`);
    pckChain.pairedWith = signed;
  }
  checkSerialNotRevoked(leaf, signed.pckCrl, `${path}[0]`);
  checkSerialNotRevoked(ca, signed.rootCaCrl, `${path}[1]`);
  return chain.validUntil;
}

// The pinned Intel SGX Root CA as an anchor list, once loaded (the same one every call would load).
let defaultAnchors: readonly TrustAnchor[] | undefined;

/**
 * The vendor anchors (the pinned Intel SGX Root CA unless replaced) after the caller's simulator roots,
 * each marked `simulator` whatever the caller set, so a chain to one can only ever yield platform `sim`.
 */
async function trustAnchors(options: DcapVerifyOptions): Promise<readonly TrustAnchor[]> {
  if (options.anchors === undefined && defaultAnchors === undefined) {
    defaultAnchors = Object.freeze([await pinnedAnchor(INTEL_SGX_ROOT_CA)]);
  }
  return trustAnchorsNow(options)!;
}

/** {@link trustAnchors} without waiting, when nothing needs loading (else undefined). */
function trustAnchorsNow(options: DcapVerifyOptions): readonly TrustAnchor[] | undefined {
  const vendor = options.anchors ?? defaultAnchors;
  return vendor === undefined ? undefined : withSimulatorRoots(options, vendor);
}

function withSimulatorRoots(
  options: DcapVerifyOptions,
  vendor: readonly TrustAnchor[],
): readonly TrustAnchor[] {
  if (options.simulatorRoots === undefined || options.simulatorRoots.length === 0) return vendor;
  const simulator = options.simulatorRoots.map((anchor) => ({ ...anchor, kind: 'simulator' as const }));
  return [...simulator, ...vendor];
}

/** Bit `n` of a little-endian bit field (ATTRIBUTES, TDATTRIBUTES). */
function bit(field: Uint8Array, n: number): boolean {
  return ((field[n >> 3]! >> (n & 7)) & 1) === 1;
}

/** `hex` encodes the report's byte fields (see `regionHex`). */
function sgxClaims(report: SgxReport, hex: (bytes: Uint8Array) => string): SgxClaims {
  const flags = report.attributes;
  // Intel SDM Vol. 3D §34.7.1 "ATTRIBUTES": INIT 0, DEBUG 1, MODE64BIT 2, PROVISIONKEY 4, EINITTOKEN_KEY 5,
  // KSS 7, AEXNOTIFY 10.
  const misc = new Uint8Array(4);
  new DataView(misc.buffer).setUint32(0, report.miscSelect, true);
  return {
    mrenclave: hex(report.mrEnclave),
    mrsigner: hex(report.mrSigner),
    isvProdId: report.isvProdId,
    isvSvn: report.isvSvn,
    attributes: hex(report.attributes),
    attributeFlags: {
      init: bit(flags, 0),
      debug: bit(flags, 1),
      mode64bit: bit(flags, 2),
      provisionKey: bit(flags, 4),
      einitTokenKey: bit(flags, 5),
      kss: bit(flags, 7),
      aexNotify: bit(flags, 10),
    },
    miscSelect: toHex(misc),
    configId: hex(report.configId),
    configSvn: report.configSvn,
    isvExtProdId: hex(report.isvExtProdId),
    isvFamilyId: hex(report.isvFamilyId),
    cpuSvn: hex(report.cpuSvn),
    reportData: hex(report.reportData),
  };
}

/** `hex` encodes the report's byte fields (see `regionHex`). */
function tdxClaims(report: TdReport, hex: (bytes: Uint8Array) => string): TdxClaims {
  const attributes = report.tdAttributes;
  // Intel TDX Module ABI spec, TDATTRIBUTES: DEBUG 0, SEPT_VE_DISABLE 28, PKS 30, KL 31, PERFMON 63.
  return {
    tdReportVersion: report.version,
    mrtd: hex(report.mrTd),
    rtmr: [hex(report.rtmr[0]), hex(report.rtmr[1]), hex(report.rtmr[2]), hex(report.rtmr[3])],
    mrseam: hex(report.mrSeam),
    mrsignerseam: hex(report.mrSignerSeam),
    mrconfigid: hex(report.mrConfigId),
    mrowner: hex(report.mrOwner),
    mrownerconfig: hex(report.mrOwnerConfig),
    mrservicetd: report.mrServiceTd === undefined ? undefined : hex(report.mrServiceTd),
    teeTcbSvn: hex(report.teeTcbSvn),
    teeTcbSvn2: report.teeTcbSvn2 === undefined ? undefined : hex(report.teeTcbSvn2),
    seamAttributes: hex(report.seamAttributes),
    tdAttributes: hex(report.tdAttributes),
    tdAttributeFlags: {
      debug: bit(attributes, 0),
      septVeDisable: bit(attributes, 28),
      pks: bit(attributes, 30),
      kl: bit(attributes, 31),
      perfmon: bit(attributes, 63),
    },
    xfam: hex(report.xfam),
    reportData: hex(report.reportData),
  };
}

function commonClaims(sgx: SgxClaims | undefined, tdx: TdxClaims | undefined): CommonClaims {
  if (sgx !== undefined) {
    return {
      measurements: { mrenclave: sgx.mrenclave, mrsigner: sgx.mrsigner },
      debug: sgx.attributeFlags.debug,
      reportData: sgx.reportData,
    };
  }
  const td = tdx!;
  const measurements: Record<string, string> = {
    mrtd: td.mrtd,
    rtmr0: td.rtmr[0],
    rtmr1: td.rtmr[1],
    rtmr2: td.rtmr[2],
    rtmr3: td.rtmr[3],
    mrseam: td.mrseam,
    mrsignerseam: td.mrsignerseam,
    mrconfigid: td.mrconfigid,
    mrowner: td.mrowner,
    mrownerconfig: td.mrownerconfig,
  };
  if (td.mrservicetd !== undefined) measurements.mrservicetd = td.mrservicetd;
  return { measurements, debug: td.tdAttributeFlags.debug, reportData: td.reportData };
}

type CollateralClaims = DcapClaims['collateral'];

// The collateral part of the claims, built once per verified collateral and frozen: every result that used
// the same collateral shares it.
const collateralClaimsCache = new WeakMap<SignedCollateral, CollateralClaims>();

function collateralClaims(signed: SignedCollateral): CollateralClaims {
  const cached = collateralClaimsCache.get(signed);
  if (cached !== undefined) return cached;
  const { tcbInfo, qeIdentity, pckCrl, rootCaCrl } = signed;
  const claims: CollateralClaims = Object.freeze({
    tcbInfo: Object.freeze({
      id: tcbInfo.id,
      version: tcbInfo.version,
      issueDate: tcbInfo.issueDate.toISOString(),
      nextUpdate: tcbInfo.nextUpdate.toISOString(),
    }),
    qeIdentity: Object.freeze({
      id: qeIdentity.id,
      issueDate: qeIdentity.issueDate.toISOString(),
      nextUpdate: qeIdentity.nextUpdate.toISOString(),
    }),
    pckCrl: Object.freeze({
      thisUpdate: pckCrl.thisUpdate.toISOString(),
      nextUpdate: pckCrl.nextUpdate?.toISOString(),
    }),
    rootCaCrl: Object.freeze({
      thisUpdate: rootCaCrl.thisUpdate.toISOString(),
      nextUpdate: rootCaCrl.nextUpdate?.toISOString(),
    }),
  });
  collateralClaimsCache.set(signed, claims);
  return claims;
}

// The collateral check's text up to the verification time, per collateral and signer.
const collateralDetails = new WeakMap<SignedCollateral, { readonly signer: string; readonly text: string }>();

function collateralDetail(signed: SignedCollateral, signer: string): string {
  const known = collateralDetails.get(signed);
  if (known !== undefined && known.signer === signer) return known.text;
  const { tcbInfo, qeIdentity } = signed;
  const text = `TCB Info ${tcbInfo.id} v${tcbInfo.version} (FMSPC ${toHex(tcbInfo.fmspc)}, evaluation data ${tcbInfo.tcbEvaluationDataNumber}) and QE Identity ${qeIdentity.id} signed by ${signer}, current at `;
  collateralDetails.set(signed, { signer, text });
  return text;
}

// `toISOString` of the last verification time seen (a pure function of its epoch milliseconds).
let lastIso = { ms: Number.NaN, text: '' };

function isoString(at: Date): string {
  const ms = at.getTime();
  if (ms !== lastIso.ms) lastIso = { ms, text: at.toISOString() };
  return lastIso.text;
}

function tcbClaims(evaluation: TcbEvaluation, signed: SignedCollateral): DcapTcbClaims {
  return {
    status: evaluation.status,
    advisoryIds: evaluation.advisoryIds,
    tcbDate: evaluation.tcbDate,
    evaluationDataNumber: evaluation.evaluationDataNumber,
    qeEvaluationDataNumber: signed.qeIdentity.tcbEvaluationDataNumber,
    platformStatus: evaluation.platform.status,
    qeStatus: evaluation.qe.status,
    tdxModule:
      evaluation.tdxModule === undefined
        ? undefined
        : { id: evaluation.tdxModule.id, status: evaluation.tdxModule.status },
    outOfDateSince: evaluation.outOfDateSince,
  };
}

/**
 * Parses (when given bytes) and verifies a DCAP quote with its collateral at `options.at`. Throws a
 * `VeriteeError` naming the failed step; see the module comment for what is and is not checked.
 */
export async function verifyDcapQuote(
  input: Uint8Array | Quote,
  options: DcapVerifyOptions,
): Promise<VerifiedEvidence<DcapClaims>> {
  const at = options.at;
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'at must be a valid Date', { path: 'at' });
  }
  const quote = input instanceof Uint8Array ? parseQuote(input) : input;
  if (!equalBytes(quote.header.qeVendorId, INTEL_QE_VENDOR_ID_BYTES)) {
    throw new VeriteeError(ErrorCode.EVIDENCE_INVALID, 'QE vendor ID is not Intel’s', {
      path: 'quote/header/qeVendorId',
      offset: 12,
      details: toHex(quote.header.qeVendorId),
    });
  }
  const anchors = trustAnchorsNow(options) ?? (await trustAnchors(options));
  const tcbPolicy = tcbPolicyOf(options.policy);
  const collateral = parseDcapCollateral(options.collateral);
  const signed = knownSignatures(collateral) ?? (await verifyCollateralSignatures(collateral));
  checkCollateralKind(quote, signed);
  const collateralCheck = await checkCollateralAt(signed, {
    at,
    anchors,
    graceMs: tcbPolicy.collateralGraceSeconds * 1000,
  });
  const known = knownCertification(quote.qe);
  const pckChain = known?.pckChain ?? parsePckChain(quote.qe.pckChainPem);
  const chainValidUntil =
    verifyPckChainNow(pckChain, signed, at, anchors, collateralCheck.anchor) ??
    (await verifyPckChain(pckChain, signed, at, anchors, collateralCheck.anchor));
  const pck = pckChain.extension;
  checkCollateralPlatform(pck, signed);
  let entry = known;
  if (entry === undefined) {
    await verifyQeReportSignature(quote, pckChain.certificates[0]);
    entry = rememberCertification(quote.qe, pckChain);
  }
  checkQeReportData(quote);
  await verifyQuoteSignature(quote, attestationKeyOf(entry, quote.attestationKey));

  const td = quote.body.kind === 'sgx' ? undefined : quote.body.report;
  const evaluation = evaluateTcb({
    tcbInfo: signed.tcbInfo,
    qeIdentity: signed.qeIdentity,
    pck,
    qeReport: quote.qe.qeReport,
    td,
  });

  // The report fields are views into the signed bytes: encode those once for all the claims.
  const hex = regionHex(quote.signedBytes, signedBytesHex(entry, quote.signedBytes));
  const sgx = quote.body.kind === 'sgx' ? sgxClaims(quote.body.report, hex) : undefined;
  const tdx = td === undefined ? undefined : tdxClaims(td, hex);
  const warnings: Issue[] = [...collateralCheck.warnings];
  if (quote.trailingBytes > 0) {
    warnings.push({
      code: ErrorCode.PARSE_TRAILING_BYTES,
      message: `quote has ${quote.trailingBytes} ${quote.trailingBytesAllZero ? 'zero ' : ''}bytes after the signature data (not signed; ignored)`,
    });
  }
  const validUntil = new Date(Math.min(chainValidUntil.getTime(), collateralCheck.validUntil.getTime()));
  const tee = quote.header.teeType;
  const simulated = isSimulatorAnchor(collateralCheck.anchor);
  const signer = simulated
    ? `the SIMULATOR's TCB Signing (${collateralCheck.anchor.name})`
    : 'Intel SGX TCB Signing';
  const checks: Check[] = [
    {
      id: 'dcap.collateral',
      ok: true,
      detail: collateralDetail(signed, signer) + isoString(at),
    },
    {
      id: 'dcap.pck.chain',
      ok: true,
      detail: `PCK certificate → ${pckChain.caName} → ${collateralCheck.anchor.name}, valid and not revoked`,
    },
    {
      id: 'dcap.qe.signature',
      ok: true,
      detail: 'QE report signed by the PCK key and binding the attestation key',
    },
    {
      id: 'dcap.quote.signature',
      ok: true,
      detail: `quote v${quote.header.version} signed by the attestation key`,
    },
    {
      id: 'dcap.tcb',
      ok: true,
      detail: `TCB status ${evaluation.status}${evaluation.advisoryIds.length > 0 ? ` (${evaluation.advisoryIds.join(', ')})` : ''}`,
    },
  ];
  const pc = pckChain.claims;
  const claims: { -readonly [K in keyof DcapClaims]: DcapClaims[K] } = {
    teeType: tee,
    quoteVersion: quote.header.version,
    body: quote.body.kind,
    // The PCK part, property by property (cheaper than spreading the shared frozen object; same order).
    fmspc: pc.fmspc,
    pceId: pc.pceId,
    ppid: pc.ppid,
    sgxType: pc.sgxType,
    pckCa: pc.pckCa,
    pckCertificate: pc.pckCertificate,
    pceSvn: pc.pceSvn,
    tcbComponents: pc.tcbComponents,
    qe: {
      isvSvn: quote.qe.qeReport.isvSvn,
      isvProdId: quote.qe.qeReport.isvProdId,
      mrsigner: entry.qeMrSigner,
    },
    sgx,
    tdx,
    tcb: tcbClaims(evaluation, signed),
    collateral: collateralClaims(signed),
    trailingBytes: quote.trailingBytes,
  };
  if (simulated) claims.simulatedPlatform = tee;
  return {
    platform: simulated ? 'sim' : tee,
    at,
    claims: commonClaims(sgx, tdx),
    platformClaims: claims,
    validUntil,
    checks,
    warnings,
    tcb: {
      status: evaluation.status,
      advisoryIds: evaluation.advisoryIds,
      tcbDate: evaluation.tcbDate,
      evaluationDataNumber: evaluation.evaluationDataNumber,
    },
  };
}
