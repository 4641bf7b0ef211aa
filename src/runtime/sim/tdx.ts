/**
 * Simulated Intel TDX evidence: a DCAP quote v4 in the real format, signed by a fresh attestation key
 * whose binding is certified by a QE report signed with the simulated platform's PCK key, and the
 * collateral a DCAP verifier needs (TDX TCB Info v3, TD_QE identity, PCK CRL, Root CA CRL), signed by the
 * simulator's Intel-shaped PKI (`tdx-pki.ts`). `verify` accepts them only when the PKI's root is passed
 * as a simulator root, and then reports platform `sim` (claims.simulatedPlatform `tdx`).
 *
 * Layouts: [TDX-QL] Intel TDX DCAP Quoting Library API, Appendix A "Quote Format" (v4: TD Quote Header,
 * TD Quote Body, Quote Signature Data, QE Report Certification Data); the QE report is sgx_report_body_t
 * ([SGX-QL] "ISV Enclave Report Body"). Collateral: Intel PCS API v4 "TCB Info" (v3, id TDX) and
 * "Enclave Identity" (v2, id TD_QE) JSON, X.509 v2 CRLs. `src/platforms/dcap/quote.ts` reads it all back.
 */
import { createHash, type KeyObject, sign } from 'node:crypto';
import { concatBytes, toHex, utf8Encode } from '../../bytes.js';
import { generateWithPublicJwk } from '../../crypto/node-keys.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { PCS_FILES } from '../../platforms/dcap/collateral.js';
import { AttestationKeyType, SGX_REPORT_SIZE, TeeTypeValue } from '../../platforms/dcap/header.js';
import { CertificationDataType, INTEL_QE_VENDOR_ID } from '../../platforms/dcap/quote.js';
import { sha384 } from './nitro.js';
import type { SimulatedIdentity, SimulatedIntelPki } from './tdx-pki.js';
import { issueCrl } from './x509.js';

/** What the simulated TD measures: MRTD and RTMR0–3, 48 bytes each. */
export interface SimulatedTdMeasurements {
  readonly mrtd: Uint8Array;
  readonly rtmr: readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
}

/**
 * The simulated TDX module and TD QE. TEE_TCB_SVN: byte 0 the module's SVN, byte 1 its major version
 * (1: graded by the TCB Info's `TDX_01` module identity), the rest the TDX TCB components.
 */
const SIM_TEE_TCB_SVN = Uint8Array.of(3, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const SIM_MR_SEAM = sha384('veritee simulator TDX module');
/** Intel-signed TDX modules report an all-zero MRSIGNERSEAM. */
const SIM_MR_SIGNER_SEAM = new Uint8Array(48);
const SIM_QE_MRSIGNER = createHash('sha256').update('veritee simulator TD quoting enclave').digest();
const SIM_QE_MRENCLAVE = createHash('sha256').update('veritee simulator TD quoting enclave code').digest();
const SIM_QE_PROD_ID = 2;
const SIM_QE_SVN = 4;
/** Intel SDM ATTRIBUTES: INIT | MODE64BIT. */
const SIM_QE_ATTRIBUTES = Uint8Array.of(0x11, ...new Uint8Array(15));
/** TDATTRIBUTES: SEPT_VE_DISABLE (bit 28) only, so never a debug TD. */
const SIM_TD_ATTRIBUTES = Uint8Array.of(0, 0, 0, 0x10, 0, 0, 0, 0);
/** XFAM: x87, SSE, AVX, AVX-512 state, PK, … (a common value on real TDs). */
const SIM_XFAM = Uint8Array.of(0xe7, 0x02, 0x06, 0, 0, 0, 0, 0);
/** The dates the simulated TCB levels were published. */
const SIM_TCB_DATE = '2025-02-12T00:00:00Z';
const SIM_RECOVERY_TCB_DATE = '2025-08-13T00:00:00Z';
/** Intel's collateral is reissued daily and valid for 30 days. */
const COLLATERAL_LIFETIME_MS = 30 * 24 * 3600 * 1000;

function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, true);
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** ECDSA P-256 / SHA-256, r‖s as DCAP quotes and collateral carry it. */
function signP256(data: Uint8Array, key: KeyObject): Uint8Array {
  return new Uint8Array(sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
}

function checkSize(value: Uint8Array, size: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== size) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `simulated ${what} must be ${size} bytes`);
  }
  return value;
}

/** [SGX-QL] sgx_report_body_t of the simulated TD QE, with `reportData` (64 bytes). */
function qeReport(cpuSvn: Uint8Array, reportData: Uint8Array): Uint8Array {
  const report = new Uint8Array(SGX_REPORT_SIZE);
  report.set(cpuSvn, 0); // cpuSvn
  // 16 miscSelect = 0; 20 reserved; 32 isvExtProdId = 0
  report.set(SIM_QE_ATTRIBUTES, 48);
  report.set(SIM_QE_MRENCLAVE, 64);
  report.set(SIM_QE_MRSIGNER, 128);
  report.set(u16(SIM_QE_PROD_ID), 256);
  report.set(u16(SIM_QE_SVN), 258);
  report.set(reportData, 320);
  return report;
}

/** Options for the collateral the simulator signs. */
export interface SimulatedCollateralOptions {
  /** issueDate / thisUpdate. Default: now. */
  readonly now?: Date | undefined;
  /** nextUpdate − issueDate. Default 30 days, as Intel's. */
  readonly lifetimeMs?: number | undefined;
  /** TCB Info and QE Identity `tcbEvaluationDataNumber`. Default 17. */
  readonly tcbEvaluationDataNumber?: number | undefined;
  /**
   * Simulates a TCB recovery: the TCB Info lists a newer level (every SVN one higher) as UpToDate and
   * the simulated platform's level as OutOfDate with these advisories.
   */
  readonly recovery?: { readonly advisoryIds: readonly string[] } | undefined;
}

/** The collateral as the dcap-qvl `QuoteCollateralV3` JSON (`veritee verify --collateral <file>`). */
export interface SimulatedCollateralJson {
  readonly tcb_info_issuer_chain: string;
  readonly tcb_info: string;
  readonly tcb_info_signature: string;
  readonly qe_identity_issuer_chain: string;
  readonly qe_identity: string;
  readonly qe_identity_signature: string;
  readonly pck_crl_issuer_chain: string;
  readonly pck_crl: string;
  readonly root_ca_crl: string;
}

function svnList(values: readonly number[]): { svn: number }[] {
  return values.map((svn) => ({ svn }));
}

export class SimulatedTdx {
  readonly #pki: SimulatedIntelPki;
  readonly #measurements: SimulatedTdMeasurements;
  readonly #attestationKey: KeyObject;
  readonly #attestationPublicKey: Uint8Array;
  readonly #qeAuthData: Uint8Array;
  /** Header user data: real QEs put a platform QE identifier in its first 16 bytes. */
  readonly #qeId: Uint8Array;
  /** The QE report and its PCK signature: fixed for one attestation key, as on a real platform. */
  readonly #qeCertification: Uint8Array;

  constructor(pki: SimulatedIntelPki, measurements: SimulatedTdMeasurements) {
    this.#pki = pki;
    const rtmr = measurements.rtmr.map((value, i) => checkSize(value, 48, `RTMR${i}`).slice());
    if (rtmr.length !== 4) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'simulated RTMRs must be 4');
    this.#measurements = {
      mrtd: checkSize(measurements.mrtd, 48, 'MRTD').slice(),
      rtmr: rtmr as unknown as SimulatedTdMeasurements['rtmr'],
    };
    // A fresh attestation key, as the QE generates at start-up.
    const { privateKey, publicJwk: jwk } = generateWithPublicJwk('ec', { namedCurve: 'P-256' });
    this.#attestationKey = privateKey;
    this.#attestationPublicKey = concatBytes(
      new Uint8Array(Buffer.from(jwk.x!, 'base64url')),
      new Uint8Array(Buffer.from(jwk.y!, 'base64url')),
    );
    // [TDX-QL] QE Authentication Data: real QEs send 32 bytes 0x00..0x1f.
    this.#qeAuthData = Uint8Array.from({ length: 32 }, (_, i) => i);
    // [TDX-QL] QE Report Certification Data: the QE report data is SHA-256(attestation key ‖ QE
    // authentication data) followed by 32 zero bytes.
    const binding = createHash('sha256').update(this.#attestationPublicKey).update(this.#qeAuthData).digest();
    const report = qeReport(pki.platform.cpuSvn, concatBytes(new Uint8Array(binding), new Uint8Array(32)));
    // Certification data type 5: the PCK chain (PCK, PCK CA, root) as PEM, NUL-terminated like real QEs.
    const pckChain = concatBytes(utf8Encode(pki.pck.pem + pki.pckCa.pem + pki.root.pem), new Uint8Array(1));
    this.#qeCertification = concatBytes(
      report,
      signP256(report, pki.pck.key),
      u16(this.#qeAuthData.length),
      this.#qeAuthData,
      u16(CertificationDataType.PCK_CHAIN),
      u32(pckChain.length),
      pckChain,
    );
    const qeId = createHash('sha256').update('veritee simulator QE id').update(pki.platform.ppid).digest();
    this.#qeId = concatBytes(new Uint8Array(qeId).subarray(0, 16), new Uint8Array(4));
  }

  /** [TDX-QL] TD Quote Header (48 bytes). */
  #header(): Uint8Array {
    return concatBytes(
      u16(4), // version
      u16(AttestationKeyType.ECDSA_P256),
      u32(TeeTypeValue.TDX),
      u16(0), // reserved
      u16(0), // reserved
      Uint8Array.from(Buffer.from(INTEL_QE_VENDOR_ID, 'hex')),
      this.#qeId,
    );
  }

  /** [TDX-QL] TD Quote Body for TDX 1.0 (584 bytes). */
  #body(reportData: Uint8Array): Uint8Array {
    const zeros48 = new Uint8Array(48);
    return concatBytes(
      SIM_TEE_TCB_SVN,
      SIM_MR_SEAM,
      SIM_MR_SIGNER_SEAM,
      new Uint8Array(8), // SEAMATTRIBUTES
      SIM_TD_ATTRIBUTES,
      SIM_XFAM,
      this.#measurements.mrtd,
      zeros48, // MRCONFIGID
      zeros48, // MROWNER
      zeros48, // MROWNERCONFIG
      ...this.#measurements.rtmr,
      reportData,
    );
  }

  /** A TDX quote v4 whose REPORTDATA is `reportData` (64 bytes). */
  quote(reportData: Uint8Array): Uint8Array {
    checkSize(reportData, 64, 'report data');
    const signed = concatBytes(this.#header(), this.#body(reportData));
    const certification = concatBytes(
      u16(CertificationDataType.QE_REPORT),
      u32(this.#qeCertification.length),
      this.#qeCertification,
    );
    const signatureData = concatBytes(
      signP256(signed, this.#attestationKey),
      this.#attestationPublicKey,
      certification,
    );
    return concatBytes(signed, u32(signatureData.length), signatureData);
  }

  /** The signed `tcbInfo` text (Intel PCS "TCB Info" v3, id TDX) for the simulated platform. */
  #tcbInfo(issueDate: Date, nextUpdate: Date, options: SimulatedCollateralOptions): string {
    const platform = this.#pki.platform;
    const tdx = [...SIM_TEE_TCB_SVN];
    const level = (sgx: readonly number[], pceSvn: number, tdxSvns: readonly number[]) => ({
      sgxtcbcomponents: svnList(sgx),
      pcesvn: pceSvn,
      tdxtcbcomponents: svnList(tdxSvns),
    });
    const current = level(platform.tcbComponents, platform.pceSvn, tdx);
    const levels: object[] = [];
    if (options.recovery === undefined) {
      levels.push({ tcb: current, tcbDate: SIM_TCB_DATE, tcbStatus: 'UpToDate' });
    } else {
      const newer = level(
        platform.tcbComponents.map((svn) => svn + 1),
        platform.pceSvn + 1,
        tdx.map((svn, i) => (i < 2 ? svn : svn + 1)),
      );
      levels.push({ tcb: newer, tcbDate: SIM_RECOVERY_TCB_DATE, tcbStatus: 'UpToDate' });
      levels.push({
        tcb: current,
        tcbDate: SIM_TCB_DATE,
        tcbStatus: 'OutOfDate',
        advisoryIDs: [...options.recovery.advisoryIds],
      });
    }
    // An older level below, as every real TCB Info has.
    levels.push({
      tcb: level(
        platform.tcbComponents.map((svn) => Math.max(0, svn - 1)),
        platform.pceSvn - 2,
        tdx.map((svn, i) => (i < 2 ? svn : 0)),
      ),
      tcbDate: '2024-03-13T00:00:00Z',
      tcbStatus: 'OutOfDate',
      advisoryIDs: ['INTEL-SA-00960'],
    });
    const module = {
      mrsigner: toHex(SIM_MR_SIGNER_SEAM).toUpperCase(),
      attributes: '0000000000000000',
      attributesMask: 'FFFFFFFFFFFFFFFF',
    };
    return JSON.stringify({
      id: 'TDX',
      version: 3,
      issueDate: intelDate(issueDate),
      nextUpdate: intelDate(nextUpdate),
      fmspc: toHex(platform.fmspc).toUpperCase(),
      pceId: toHex(platform.pceId).toUpperCase(),
      tcbType: 0,
      tcbEvaluationDataNumber: options.tcbEvaluationDataNumber ?? 17,
      tdxModule: module,
      tdxModuleIdentities: [
        {
          id: 'TDX_01',
          ...module,
          tcbLevels: [{ tcb: { isvsvn: SIM_TEE_TCB_SVN[0] }, tcbDate: SIM_TCB_DATE, tcbStatus: 'UpToDate' }],
        },
      ],
      tcbLevels: levels,
    });
  }

  /** The signed `enclaveIdentity` text (Intel PCS "Enclave Identity" v2, id TD_QE). */
  #qeIdentity(issueDate: Date, nextUpdate: Date, options: SimulatedCollateralOptions): string {
    return JSON.stringify({
      id: 'TD_QE',
      version: 2,
      issueDate: intelDate(issueDate),
      nextUpdate: intelDate(nextUpdate),
      tcbEvaluationDataNumber: options.tcbEvaluationDataNumber ?? 17,
      miscselect: '00000000',
      miscselectMask: 'FFFFFFFF',
      attributes: toHex(SIM_QE_ATTRIBUTES).toUpperCase(),
      attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
      mrsigner: toHex(SIM_QE_MRSIGNER).toUpperCase(),
      isvprodid: SIM_QE_PROD_ID,
      tcbLevels: [{ tcb: { isvsvn: SIM_QE_SVN }, tcbDate: SIM_TCB_DATE, tcbStatus: 'UpToDate' }],
    });
  }

  /** Signs a fresh set of collateral (see {@link SimulatedCollateralOptions}). */
  #signedCollateral(options: SimulatedCollateralOptions): SignedParts {
    const pki = this.#pki;
    const issueDate = options.now ?? new Date();
    const nextUpdate = new Date(issueDate.getTime() + (options.lifetimeMs ?? COLLATERAL_LIFETIME_MS));
    const tcbInfo = this.#tcbInfo(issueDate, nextUpdate, options);
    const qeIdentity = this.#qeIdentity(issueDate, nextUpdate, options);
    const signature = (text: string) => toHex(signP256(utf8Encode(text), pki.tcbSigning.key));
    const crl = (issuer: SimulatedIdentity) =>
      issueCrl({ issuer: issuer.name, signingKey: issuer.key, thisUpdate: issueDate, nextUpdate });
    return {
      tcbInfo,
      tcbInfoSignature: signature(tcbInfo),
      qeIdentity,
      qeIdentitySignature: signature(qeIdentity),
      signingChain: pki.tcbSigning.pem + pki.root.pem,
      pckCrl: crl(pki.pckCa),
      pckCrlChain: pki.pckCa.pem + pki.root.pem,
      rootCaCrl: crl(pki.root),
    };
  }

  /**
   * The collateral as the Intel PCS wire-format files (`PCS_FILES` names: what `veritee verify
   * --collateral <dir>` reads and what a PCS serves).
   */
  pcsFiles(options: SimulatedCollateralOptions = {}): Record<string, Uint8Array> {
    const parts = this.#signedCollateral(options);
    // Intel PCS: {"tcbInfo":{…},"signature":"…"}; the signature covers the exact member text.
    const document = (member: string, text: string, signature: string): Uint8Array =>
      utf8Encode(`{"${member}":${text},"signature":"${signature}"}`);
    return {
      [PCS_FILES.tcbInfo]: document('tcbInfo', parts.tcbInfo, parts.tcbInfoSignature),
      [PCS_FILES.tcbInfoIssuerChain]: utf8Encode(parts.signingChain),
      [PCS_FILES.qeIdentity]: document('enclaveIdentity', parts.qeIdentity, parts.qeIdentitySignature),
      [PCS_FILES.qeIdentityIssuerChain]: utf8Encode(parts.signingChain),
      [PCS_FILES.pckCrl]: parts.pckCrl,
      [PCS_FILES.pckCrlIssuerChain]: utf8Encode(parts.pckCrlChain),
      [PCS_FILES.rootCaCrl]: parts.rootCaCrl,
    };
  }

  /** The collateral as one dcap-qvl JSON object (`--collateral <file>`, `verify({collateral})`). */
  collateral(options: SimulatedCollateralOptions = {}): SimulatedCollateralJson {
    const parts = this.#signedCollateral(options);
    return {
      tcb_info_issuer_chain: parts.signingChain,
      tcb_info: parts.tcbInfo,
      tcb_info_signature: parts.tcbInfoSignature,
      qe_identity_issuer_chain: parts.signingChain,
      qe_identity: parts.qeIdentity,
      qe_identity_signature: parts.qeIdentitySignature,
      pck_crl_issuer_chain: parts.pckCrlChain,
      pck_crl: toHex(parts.pckCrl),
      root_ca_crl: toHex(parts.rootCaCrl),
    };
  }
}

interface SignedParts {
  readonly tcbInfo: string;
  readonly tcbInfoSignature: string;
  readonly qeIdentity: string;
  readonly qeIdentitySignature: string;
  /** TCB Signing + root, PEM. */
  readonly signingChain: string;
  readonly pckCrl: Uint8Array;
  /** PCK CA + root, PEM. */
  readonly pckCrlChain: string;
  readonly rootCaCrl: Uint8Array;
}

/** Intel writes collateral dates as RFC 3339 UTC without fractions. */
function intelDate(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
