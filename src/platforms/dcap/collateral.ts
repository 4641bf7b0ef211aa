/**
 * Intel DCAP collateral: TCB Info (v2, v3; ids SGX and TDX), QE Identity (v2; ids QE, TD_QE), the PCK CRL
 * and the Root CA CRL, with their issuer chains.
 *
 * Two input shapes are accepted (see docs/dcap.md):
 *  - the dcap-qvl `QuoteCollateralV3` JSON (`tcb_info` = exact signed text, `tcb_info_signature` = hex r‖s,
 *    `pck_crl`/`root_ca_crl` = hex DER or byte arrays, `*_issuer_chain` = PEM);
 *  - the Intel PCS wire-format files (`tcb_info.json` = `{"tcbInfo":…,"signature":…}`, `qe_identity.json`
 *    = `{"enclaveIdentity":…,"signature":…}`, `pck_crl.der`, `root_ca_crl.der` and the issuer-chain PEMs).
 *
 * Verification is split in two. `verifyCollateralSignatures` checks what does not depend on time — each
 * signature over the exact signed bytes, each CRL's issuer name — and is cached by content hash.
 * `checkCollateralAt` then checks, on every use, the issuer chains up to a trust anchor at `at`, the
 * signer names, revocation of the signers by the Root CA CRL and every `issueDate ≤ at ≤ nextUpdate`
 * (CRLs: `thisUpdate ≤ at ≤ nextUpdate`), so a cached entry can never outlive its collateral.
 *
 * Does not check: that the collateral belongs to a particular quote (FMSPC, PCE-ID, TEE type, PCK CA) —
 * see `verify.ts` — nor any TCB level — see `tcb.ts`.
 */
import { backend } from '#crypto';
import { concatBytes, fromBase64, fromHex, toHex, utf8Decode, utf8Encode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import {
  type Certificate,
  type ChainOptions,
  type Crl,
  checkCrlCovers,
  checkSerialNotRevoked,
  parseCrl,
  parsePemCertificates,
  publicKeyOf,
  sameAnchor,
  type TrustAnchor,
  type VerifiedChain,
  verifyCrlSignature,
} from '../../pki/index.js';
import type { Issue } from '../../result.js';
import { knownChain, verifyChainMemo } from './chains.js';
import { Fields, parseJson, topLevelMembers } from './json.js';
import { expectCommonName, IntelName } from './pck.js';
import { isTcbStatus, type TcbStatus } from './tcb-status.js';

// ---------------------------------------------------------------------------------------------------------
// Parsed collateral model
// ---------------------------------------------------------------------------------------------------------

export interface TcbLevel {
  /** SGX TCB component SVNs 1–16. */
  readonly sgxComponents: readonly number[];
  readonly pceSvn: number;
  /** TDX TCB component SVNs 1–16 (TCB Info id TDX only). */
  readonly tdxComponents?: readonly number[] | undefined;
  readonly tcbDate: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

/** A TCB level keyed by one ISV SVN (QE Identity levels, TDX module identity levels). */
export interface IsvSvnLevel {
  readonly isvSvn: number;
  readonly tcbDate: string;
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
}

export interface TdxModule {
  readonly mrSigner: Uint8Array;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
}

export interface TdxModuleIdentity extends TdxModule {
  readonly id: string;
  readonly tcbLevels: readonly IsvSvnLevel[];
}

export interface TcbInfo {
  readonly id: 'SGX' | 'TDX';
  readonly version: 2 | 3;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly fmspc: Uint8Array;
  readonly pceId: Uint8Array;
  readonly tcbType: number;
  readonly tcbEvaluationDataNumber: number;
  readonly tdxModule?: TdxModule | undefined;
  readonly tdxModuleIdentities?: readonly TdxModuleIdentity[] | undefined;
  readonly tcbLevels: readonly TcbLevel[];
}

export interface QeIdentity {
  readonly id: 'QE' | 'TD_QE' | 'QVE';
  readonly version: 2;
  readonly issueDate: Date;
  readonly nextUpdate: Date;
  readonly tcbEvaluationDataNumber: number;
  readonly miscSelect: number;
  readonly miscSelectMask: number;
  readonly attributes: Uint8Array;
  readonly attributesMask: Uint8Array;
  readonly mrSigner: Uint8Array;
  readonly isvProdId: number;
  readonly tcbLevels: readonly IsvSvnLevel[];
}

/** Collateral in one normalised raw form, whatever shape it came in. */
export interface DcapCollateral {
  /** The exact signed text of the `tcbInfo` object. */
  readonly tcbInfoText: string;
  readonly tcbInfoSignature: Uint8Array;
  readonly tcbInfoIssuerChain: string;
  /** The exact signed text of the `enclaveIdentity` object. */
  readonly qeIdentityText: string;
  readonly qeIdentitySignature: Uint8Array;
  readonly qeIdentityIssuerChain: string;
  readonly pckCrl: Uint8Array;
  readonly pckCrlIssuerChain: string;
  readonly rootCaCrl: Uint8Array;
}

const MAX_TEXT = 1 << 20;

// ---------------------------------------------------------------------------------------------------------
// TCB Info and QE Identity parsing
// ---------------------------------------------------------------------------------------------------------

function status(fields: Fields, field: string): TcbStatus {
  const value = fields.string(field);
  if (!isTcbStatus(value)) throw fields.error(field, `unknown TCB status "${value.slice(0, 40)}"`);
  return value;
}

function advisories(fields: Fields): string[] {
  if (!fields.has('advisoryIDs')) return [];
  return fields.stringArray('advisoryIDs').map((id, i) => {
    if (!/^INTEL-SA-\d{5}$/.test(id))
      throw fields.error(`advisoryIDs[${i}]`, `"${id.slice(0, 40)}" is not an advisory ID`);
    return id;
  });
}

function components(fields: Fields, field: string): number[] {
  const list = fields.array(field);
  if (list.length !== 16) throw fields.error(field, `must have 16 components, found ${list.length}`);
  return list.map((item, i) => Fields.of(item, `${fields.path}/${field}[${i}]`).integer('svn', 0, 255));
}

function parseTcbLevel(value: unknown, path: string, id: 'SGX' | 'TDX', version: 2 | 3): TcbLevel {
  const level = Fields.of(value, path);
  const tcb = level.object('tcb');
  let sgxComponents: number[];
  let tdxComponents: number[] | undefined;
  if (version === 2) {
    sgxComponents = [];
    for (let i = 1; i <= 16; i++)
      sgxComponents.push(tcb.integer(`sgxtcbcomp${String(i).padStart(2, '0')}svn`, 0, 255));
  } else {
    sgxComponents = components(tcb, 'sgxtcbcomponents');
    if (id === 'TDX') tdxComponents = components(tcb, 'tdxtcbcomponents');
  }
  const tcbDate = level.string('tcbDate');
  level.date('tcbDate');
  return {
    sgxComponents,
    pceSvn: tcb.integer('pcesvn', 0, 65535),
    tdxComponents,
    tcbDate,
    status: status(level, 'tcbStatus'),
    advisoryIds: advisories(level),
  };
}

function parseIsvSvnLevel(value: unknown, path: string): IsvSvnLevel {
  const level = Fields.of(value, path);
  const tcbDate = level.string('tcbDate');
  level.date('tcbDate');
  return {
    isvSvn: level.object('tcb').integer('isvsvn', 0, 65535),
    tcbDate,
    status: status(level, 'tcbStatus'),
    advisoryIds: advisories(level),
  };
}

function parseTdxModule(fields: Fields): TdxModule {
  return {
    mrSigner: fields.hex('mrsigner', 48),
    attributes: fields.hex('attributes', 8),
    attributesMask: fields.hex('attributesMask', 8),
  };
}

/**
 * Parses the signed `tcbInfo` text (Intel PCS API "TCB Info" v2/v3 data model). Fields this verifier does
 * not use are ignored, so later additions by Intel do not break it; every used field is checked.
 */
export function parseTcbInfo(text: string, path = 'collateral/tcbInfo'): TcbInfo {
  const info = Fields.of(parseJson(text, path), path);
  const version = info.integer('version', 0, 1000);
  if (version !== 2 && version !== 3) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, `TCB Info version ${version} is not supported (2 or 3)`, {
      path: `${path}/version`,
    });
  }
  let id: 'SGX' | 'TDX' = 'SGX';
  if (version === 3) {
    const raw = info.string('id');
    if (raw !== 'SGX' && raw !== 'TDX') throw info.error('id', `unknown TCB Info id "${raw.slice(0, 20)}"`);
    id = raw;
  } else if (info.has('id')) {
    throw info.error('id', 'TCB Info v2 has no id');
  }
  const tcbType = info.integer('tcbType', 0, 255);
  if (tcbType !== 0) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, `TCB type ${tcbType} is not supported (0)`, {
      path: `${path}/tcbType`,
    });
  }
  const levels = info.array('tcbLevels');
  if (levels.length === 0) throw info.error('tcbLevels', 'has no TCB levels');
  const tdxModule =
    id === 'TDX' && info.has('tdxModule') ? parseTdxModule(info.object('tdxModule')) : undefined;
  const tdxModuleIdentities =
    id === 'TDX' && info.has('tdxModuleIdentities')
      ? info.array('tdxModuleIdentities').map((item, i) => {
          const identity = Fields.of(item, `${path}/tdxModuleIdentities[${i}]`);
          return {
            id: identity.string('id'),
            ...parseTdxModule(identity),
            tcbLevels: identity
              .array('tcbLevels')
              .map((level, j) => parseIsvSvnLevel(level, `${identity.path}/tcbLevels[${j}]`)),
          };
        })
      : undefined;
  return {
    id,
    version,
    issueDate: info.date('issueDate'),
    nextUpdate: info.date('nextUpdate'),
    fmspc: info.hex('fmspc', 6),
    pceId: info.hex('pceId', 2),
    tcbType,
    tcbEvaluationDataNumber: info.integer('tcbEvaluationDataNumber', 0, 0xffffffff),
    tdxModule,
    tdxModuleIdentities,
    tcbLevels: levels.map((level, i) => parseTcbLevel(level, `${path}/tcbLevels[${i}]`, id, version)),
  };
}

/** Big-endian u32 from 4 bytes of hex (`miscselect` is written as a number in hex). */
function hexU32(fields: Fields, field: string): number {
  const bytes = fields.hex(field, 4);
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** Parses the signed `enclaveIdentity` text (Intel PCS API "Enclave Identity" v2 data model). */
export function parseQeIdentity(text: string, path = 'collateral/qeIdentity'): QeIdentity {
  const identity = Fields.of(parseJson(text, path), path);
  const version = identity.integer('version', 0, 1000);
  if (version !== 2) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, `QE Identity version ${version} is not supported (2)`, {
      path: `${path}/version`,
    });
  }
  const id = identity.string('id');
  if (id !== 'QE' && id !== 'TD_QE' && id !== 'QVE') {
    throw identity.error('id', `unknown enclave identity id "${id.slice(0, 20)}"`);
  }
  const levels = identity.array('tcbLevels');
  if (levels.length === 0) throw identity.error('tcbLevels', 'has no TCB levels');
  return {
    id,
    version,
    issueDate: identity.date('issueDate'),
    nextUpdate: identity.date('nextUpdate'),
    tcbEvaluationDataNumber: identity.integer('tcbEvaluationDataNumber', 0, 0xffffffff),
    miscSelect: hexU32(identity, 'miscselect'),
    miscSelectMask: hexU32(identity, 'miscselectMask'),
    attributes: identity.hex('attributes', 16),
    attributesMask: identity.hex('attributesMask', 16),
    mrSigner: identity.hex('mrsigner', 32),
    isvProdId: identity.integer('isvprodid', 0, 65535),
    tcbLevels: levels.map((level, i) => parseIsvSvnLevel(level, `${path}/tcbLevels[${i}]`)),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Input shapes
// ---------------------------------------------------------------------------------------------------------

/** The Intel PCS file names read from a collateral folder. */
export const PCS_FILES = {
  tcbInfo: 'tcb_info.json',
  qeIdentity: 'qe_identity.json',
  pckCrl: 'pck_crl.der',
  rootCaCrl: 'root_ca_crl.der',
  pckCrlIssuerChain: 'pck_crl_issuer_chain.pem',
  tcbInfoIssuerChain: 'tcb_info_issuer_chain.pem',
  qeIdentityIssuerChain: 'qe_identity_issuer_chain.pem',
} as const;

/** File name → contents, as read from a PCS collateral folder. */
export type DcapCollateralFiles = Readonly<Record<string, Uint8Array>>;

function invalid(message: string, path: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_INVALID, message, { path, details });
}

function missing(field: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_MISSING, `collateral lacks ${field}`, {
    path: `${path}/${field}`,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/** Bytes given as a Uint8Array, an array of byte values, or hex text. */
function bytesField(value: unknown, path: string): Uint8Array {
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) {
    if (value.length > MAX_TEXT) throw invalid('byte array too long', path);
    const out = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const byte = value[i];
      if (typeof byte !== 'number' || !Number.isInteger(byte) || byte < 0 || byte > 255) {
        throw invalid('byte array holds a value that is not a byte', `${path}[${i}]`);
      }
      out[i] = byte;
    }
    return out;
  }
  if (typeof value === 'string') {
    if (!/^(0x)?[0-9a-fA-F]*$/.test(value)) throw invalid('must be hex', path);
    return fromHex(value, path);
  }
  throw invalid('must be bytes, a byte array or hex', path);
}

function textField(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8Decode(value, path);
  throw invalid('must be a string', path);
}

/** PEM text as given, or URL-encoded as the PCS `*-Issuer-Chain` headers carry it. */
function pemText(value: unknown, path: string): string {
  let text = textField(value, path).replace(/\0+$/, '');
  if (!text.includes('-----BEGIN') && text.includes('%2D')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw invalid('issuer chain is neither PEM nor URL-encoded PEM', path);
    }
  }
  return text;
}

function pemCrl(text: string, path: string): Uint8Array {
  const match = /^\s*-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----\s*$/.exec(text);
  if (match === null) throw invalid('malformed PEM CRL', path);
  return fromBase64(match[1]!.replace(/\s+/g, ''), path);
}

/** A CRL as DER (bytes, byte array or hex) or as PEM `X509 CRL` text. */
function crlBytes(value: unknown, path: string): Uint8Array {
  if (typeof value === 'string') {
    return value.includes('-----BEGIN') ? pemCrl(value, path) : bytesField(value, path);
  }
  const bytes = bytesField(value, path);
  return bytes[0] === 0x2d /* '-' */ ? pemCrl(utf8Decode(bytes, path), path) : bytes;
}

function signatureBytes(value: unknown, path: string): Uint8Array {
  const bytes = bytesField(value, path);
  if (bytes.length !== 64) throw invalid(`signature must be 64 bytes (r‖s), found ${bytes.length}`, path);
  return bytes;
}

/** `{"tcbInfo":…,"signature":…}` → the exact signed text and signature. */
function splitPcsDocument(
  text: string,
  bodyKey: string,
  path: string,
): { body: string; signature: Uint8Array } {
  const members = topLevelMembers(text, path);
  for (const key of members.keys()) {
    if (key !== bodyKey && key !== 'signature') {
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unexpected member "${key.slice(0, 40)}"`, {
        path,
      });
    }
  }
  const body = members.get(bodyKey);
  const signature = members.get('signature');
  if (body === undefined) throw missing(bodyKey, path);
  if (signature === undefined) throw missing('signature', path);
  if (!body.startsWith('{')) throw invalid(`${bodyKey} must be an object`, `${path}/${bodyKey}`);
  const signatureHex = parseJson(signature, `${path}/signature`);
  return { body, signature: signatureBytes(signatureHex, `${path}/signature`) };
}

const DCAP_QVL_FIELDS = [
  'tcb_info',
  'tcb_info_signature',
  'tcb_info_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
  'qe_identity_issuer_chain',
  'pck_crl',
  'pck_crl_issuer_chain',
  'root_ca_crl',
] as const;
/** Members of dcap-qvl's JSON that this verifier does not need (the PCK chain is read from the quote). */
const DCAP_QVL_IGNORED = new Set(['pck_certificate_chain']);

function fromDcapQvl(input: Record<string, unknown>, path: string): DcapCollateral {
  for (const key of Object.keys(input)) {
    if (!(DCAP_QVL_FIELDS as readonly string[]).includes(key) && !DCAP_QVL_IGNORED.has(key)) {
      throw new VeriteeError(
        ErrorCode.PARSE_UNKNOWN_FIELD,
        `unknown collateral field "${key.slice(0, 40)}"`,
        {
          path,
        },
      );
    }
  }
  for (const key of DCAP_QVL_FIELDS) if (input[key] === undefined) throw missing(key, path);
  return {
    tcbInfoText: textField(input.tcb_info, `${path}/tcb_info`),
    tcbInfoSignature: signatureBytes(input.tcb_info_signature, `${path}/tcb_info_signature`),
    tcbInfoIssuerChain: pemText(input.tcb_info_issuer_chain, `${path}/tcb_info_issuer_chain`),
    qeIdentityText: textField(input.qe_identity, `${path}/qe_identity`),
    qeIdentitySignature: signatureBytes(input.qe_identity_signature, `${path}/qe_identity_signature`),
    qeIdentityIssuerChain: pemText(input.qe_identity_issuer_chain, `${path}/qe_identity_issuer_chain`),
    pckCrl: crlBytes(input.pck_crl, `${path}/pck_crl`),
    pckCrlIssuerChain: pemText(input.pck_crl_issuer_chain, `${path}/pck_crl_issuer_chain`),
    rootCaCrl: crlBytes(input.root_ca_crl, `${path}/root_ca_crl`),
  };
}

/** Builds collateral from the Intel PCS wire-format files of a folder (see {@link PCS_FILES}). */
export function collateralFromPcsFiles(files: DcapCollateralFiles, path = 'collateral'): DcapCollateral {
  const file = (name: string): Uint8Array => {
    const value = files[name];
    if (!(value instanceof Uint8Array)) throw missing(name, path);
    if (value.length > MAX_TEXT) {
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, `${name} is too large`, {
        path: `${path}/${name}`,
      });
    }
    return value;
  };
  const tcb = splitPcsDocument(
    utf8Decode(file(PCS_FILES.tcbInfo), `${path}/${PCS_FILES.tcbInfo}`),
    'tcbInfo',
    `${path}/${PCS_FILES.tcbInfo}`,
  );
  const qe = splitPcsDocument(
    utf8Decode(file(PCS_FILES.qeIdentity), `${path}/${PCS_FILES.qeIdentity}`),
    'enclaveIdentity',
    `${path}/${PCS_FILES.qeIdentity}`,
  );
  return {
    tcbInfoText: tcb.body,
    tcbInfoSignature: tcb.signature,
    tcbInfoIssuerChain: pemText(
      file(PCS_FILES.tcbInfoIssuerChain),
      `${path}/${PCS_FILES.tcbInfoIssuerChain}`,
    ),
    qeIdentityText: qe.body,
    qeIdentitySignature: qe.signature,
    qeIdentityIssuerChain: pemText(
      file(PCS_FILES.qeIdentityIssuerChain),
      `${path}/${PCS_FILES.qeIdentityIssuerChain}`,
    ),
    pckCrl: crlBytes(file(PCS_FILES.pckCrl), `${path}/${PCS_FILES.pckCrl}`),
    pckCrlIssuerChain: pemText(file(PCS_FILES.pckCrlIssuerChain), `${path}/${PCS_FILES.pckCrlIssuerChain}`),
    rootCaCrl: crlBytes(file(PCS_FILES.rootCaCrl), `${path}/${PCS_FILES.rootCaCrl}`),
  };
}

const normalised = new WeakSet<object>();

/**
 * dcap-qvl JSON objects already normalised, by object identity, with the field values they had. Only
 * objects whose every field is a string qualify (strings are immutable, so comparing the remembered values
 * with `===` proves the content is unchanged); anything else is normalised afresh on every call.
 */
const normalisedInputs = new WeakMap<
  object,
  { readonly values: readonly unknown[]; readonly out: DcapCollateral }
>();

function allStringFields(value: Record<string, unknown>): unknown[] | undefined {
  const keys = Object.keys(value);
  const values: unknown[] = [];
  for (const key of keys) {
    const field = value[key];
    if (typeof field !== 'string') return undefined;
    values.push(key, field);
  }
  return values;
}

function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Accepts collateral in any supported shape and returns it normalised: an already normalised value, the
 * dcap-qvl JSON (as an object, text or bytes), or a PCS folder's files (`{ "tcb_info.json": bytes, … }`).
 */
export function parseDcapCollateral(input: unknown, path = 'collateral'): DcapCollateral {
  if (input === undefined || input === null) {
    throw new VeriteeError(ErrorCode.COLLATERAL_MISSING, 'Intel DCAP verification needs collateral', {
      path,
      details: 'pass the dcap-qvl collateral JSON or a folder of Intel PCS files (--collateral <file|dir>)',
    });
  }
  if (typeof input === 'object' && normalised.has(input)) return input as DcapCollateral;
  let value: unknown = input;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const text = typeof value === 'string' ? value : utf8Decode(value, path);
    if (text.length > 4 * MAX_TEXT)
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'collateral too large', { path });
    value = parseJson(text, path);
  }
  if (!isRecord(value)) throw invalid('collateral must be a JSON object or a map of PCS files', path);
  const values = value === input ? allStringFields(value) : undefined;
  if (values !== undefined) {
    const known = normalisedInputs.get(value);
    if (known !== undefined && sameValues(known.values, values)) return known.out;
  }
  let out: DcapCollateral;
  if (Object.hasOwn(value, PCS_FILES.tcbInfo))
    out = collateralFromPcsFiles(value as DcapCollateralFiles, path);
  else if (Object.hasOwn(value, 'tcbInfoText')) out = fromNormalisedShape(value, path);
  else out = fromDcapQvl(value, path);
  normalised.add(out);
  if (values !== undefined) normalisedInputs.set(value, { values, out });
  return out;
}

function fromNormalisedShape(value: Record<string, unknown>, path: string): DcapCollateral {
  return {
    tcbInfoText: textField(value.tcbInfoText, `${path}/tcbInfoText`),
    tcbInfoSignature: signatureBytes(value.tcbInfoSignature, `${path}/tcbInfoSignature`),
    tcbInfoIssuerChain: pemText(value.tcbInfoIssuerChain, `${path}/tcbInfoIssuerChain`),
    qeIdentityText: textField(value.qeIdentityText, `${path}/qeIdentityText`),
    qeIdentitySignature: signatureBytes(value.qeIdentitySignature, `${path}/qeIdentitySignature`),
    qeIdentityIssuerChain: pemText(value.qeIdentityIssuerChain, `${path}/qeIdentityIssuerChain`),
    pckCrl: crlBytes(value.pckCrl, `${path}/pckCrl`),
    pckCrlIssuerChain: pemText(value.pckCrlIssuerChain, `${path}/pckCrlIssuerChain`),
    rootCaCrl: crlBytes(value.rootCaCrl, `${path}/rootCaCrl`),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------------

/** Collateral whose signatures verified (time-independent facts), ready for per-use checks. */
export interface SignedCollateral {
  /** SHA-256 over every field, lowercase hex. */
  readonly contentHash: string;
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
  /** [TCB Signing, Root CA]. */
  readonly tcbInfoChain: readonly Certificate[];
  readonly qeIdentityChain: readonly Certificate[];
  /** [PCK Platform/Processor CA, Root CA]. */
  readonly pckCrlChain: readonly Certificate[];
  readonly pckCrl: Crl;
  readonly rootCaCrl: Crl;
}

function contentHash(collateral: DcapCollateral): string {
  const parts: Uint8Array[] = [];
  const add = (bytes: Uint8Array): void => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.length);
    parts.push(length, bytes);
  };
  add(utf8Encode(collateral.tcbInfoText));
  add(collateral.tcbInfoSignature);
  add(utf8Encode(collateral.tcbInfoIssuerChain));
  add(utf8Encode(collateral.qeIdentityText));
  add(collateral.qeIdentitySignature);
  add(utf8Encode(collateral.qeIdentityIssuerChain));
  add(collateral.pckCrl);
  add(utf8Encode(collateral.pckCrlIssuerChain));
  add(collateral.rootCaCrl);
  return toHex(backend.hash('SHA-256', concatBytes(...parts)));
}

const P256_SHA256_P1363 = { kind: 'ecdsa', hash: 'SHA-256', encoding: 'p1363' } as const;

/** Checks `signature` (r‖s) over the exact UTF-8 bytes of `text` with the certificate's P-256 key. */
async function verifyJsonSignature(
  text: string,
  signature: Uint8Array,
  signer: Certificate,
  path: string,
): Promise<void> {
  const key = publicKeyOf(signer);
  if (key.type !== 'ec' || key.curve !== 'P-256') {
    throw new VeriteeError(ErrorCode.KEY_INVALID, `"${signer.subject}" does not hold a P-256 key`, { path });
  }
  if (!(await backend.verify(key, P256_SHA256_P1363, utf8Encode(text), signature))) {
    throw new VeriteeError(ErrorCode.SIG_INVALID, `signature over ${path} does not verify`, {
      path,
      details: `signer "${signer.subject}"`,
    });
  }
}

function chain(pem: string, path: string, length: number): Certificate[] {
  const certificates = parsePemCertificates(pem, path);
  if (certificates.length !== length) {
    throw invalid(`issuer chain must hold ${length} certificates, found ${certificates.length}`, path);
  }
  return certificates;
}

// Signature-verified collateral by content hash. Bounded; entries are only facts about signatures, and
// every use re-checks dates and trust, so an entry cannot extend the life of its collateral.
const CACHE_LIMIT = 64;
const signedCache = new Map<string, SignedCollateral>();
const byObject = new WeakMap<DcapCollateral, SignedCollateral>();

/** Forgets every cached collateral verification (for tests and benchmarks). */
export function clearCollateralCache(): void {
  signedCache.clear();
}

/**
 * The cached verification of this very collateral object, while it is still cached (no await); else
 * undefined and {@link verifyCollateralSignatures} does the work.
 */
export function knownSignatures(collateral: DcapCollateral): SignedCollateral | undefined {
  const known = byObject.get(collateral);
  return known !== undefined && signedCache.get(known.contentHash) === known ? known : undefined;
}

/**
 * Parses the TCB Info and QE Identity, parses the CRLs and issuer chains, and verifies every signature:
 * TCB Info and QE Identity by the first certificate of their issuer chain (which must be named "Intel SGX
 * TCB Signing"), the PCK CRL by the first certificate of its issuer chain (a PCK Platform or Processor CA)
 * and the Root CA CRL by the root of that chain. Cached by content hash.
 *
 * Does not check: dates, chains up to a trust anchor, or revocation — {@link checkCollateralAt} does, on
 * every use.
 */
export async function verifyCollateralSignatures(collateral: DcapCollateral): Promise<SignedCollateral> {
  const known = knownSignatures(collateral);
  if (known !== undefined) return known;
  const hash = contentHash(collateral);
  const cached = signedCache.get(hash);
  if (cached !== undefined) {
    byObject.set(collateral, cached);
    return cached;
  }
  const tcbInfoChain = chain(collateral.tcbInfoIssuerChain, 'collateral/tcbInfoIssuerChain', 2);
  const qeIdentityChain = chain(collateral.qeIdentityIssuerChain, 'collateral/qeIdentityIssuerChain', 2);
  const pckCrlChain = chain(collateral.pckCrlIssuerChain, 'collateral/pckCrlIssuerChain', 2);
  expectCommonName(tcbInfoChain[0]!, [IntelName.tcbSigning], 'collateral/tcbInfoIssuerChain[0]');
  expectCommonName(qeIdentityChain[0]!, [IntelName.tcbSigning], 'collateral/qeIdentityIssuerChain[0]');
  expectCommonName(
    pckCrlChain[0]!,
    [IntelName.pckPlatformCa, IntelName.pckProcessorCa],
    'collateral/pckCrlIssuerChain[0]',
  );
  await verifyJsonSignature(
    collateral.tcbInfoText,
    collateral.tcbInfoSignature,
    tcbInfoChain[0]!,
    'collateral/tcbInfo',
  );
  await verifyJsonSignature(
    collateral.qeIdentityText,
    collateral.qeIdentitySignature,
    qeIdentityChain[0]!,
    'collateral/qeIdentity',
  );
  const tcbInfo = parseTcbInfo(collateral.tcbInfoText);
  const qeIdentity = parseQeIdentity(collateral.qeIdentityText);
  const pckCrl = parseCrl(collateral.pckCrl, 'collateral/pckCrl');
  const rootCaCrl = parseCrl(collateral.rootCaCrl, 'collateral/rootCaCrl');
  await verifyCrlSignature(pckCrl, pckCrlChain[0]!, 'collateral/pckCrl');
  await verifyCrlSignature(rootCaCrl, pckCrlChain[1]!, 'collateral/rootCaCrl');
  const signed: SignedCollateral = {
    contentHash: hash,
    tcbInfo,
    qeIdentity,
    tcbInfoChain,
    qeIdentityChain,
    pckCrlChain,
    pckCrl,
    rootCaCrl,
  };
  if (signedCache.size >= CACHE_LIMIT) signedCache.delete(signedCache.keys().next().value as string);
  signedCache.set(hash, signed);
  byObject.set(collateral, signed);
  return signed;
}

export interface CollateralCheckOptions {
  readonly at: Date;
  readonly anchors: readonly TrustAnchor[];
  /** Accept collateral and CRLs up to this long past their nextUpdate, with a warning. Default 0. */
  readonly graceMs?: number | undefined;
}

export interface CollateralCheck {
  /** The earliest nextUpdate/notAfter among the collateral (plus grace where grace was used). */
  readonly validUntil: Date;
  readonly warnings: readonly Issue[];
  /** The trust anchor every issuer chain ends at. */
  readonly anchor: TrustAnchor;
}

interface Window {
  readonly what: string;
  readonly path: string;
  readonly from: Date;
  readonly until: Date | undefined;
  /** `from` and `until` in epoch milliseconds (NaN for a missing `until`). */
  readonly fromMs: number;
  readonly untilMs: number;
  readonly early: ErrorCode;
  readonly late: ErrorCode;
}

/** `from ≤ at ≤ until (+ grace)`; returns the instant this item stops being acceptable. */
function checkWindow(window: Window, at: Date, t: number, graceMs: number, warnings: Issue[]): Date {
  if (t < window.fromMs) {
    throw new VeriteeError(window.early, `${window.what} is not valid yet`, {
      path: window.path,
      details: `valid from ${window.from.toISOString()}, checked at ${at.toISOString()}`,
    });
  }
  if (window.until === undefined) {
    throw new VeriteeError(window.late, `${window.what} has no nextUpdate`, { path: window.path });
  }
  if (t <= window.untilMs) return window.until;
  if (t > window.untilMs + graceMs) {
    throw new VeriteeError(window.late, `${window.what} is stale`, {
      path: window.path,
      details: `nextUpdate ${window.until.toISOString()}, checked at ${at.toISOString()}${
        graceMs > 0 ? `, grace ${Math.round(graceMs / 1000)} s` : ''
      }`,
    });
  }
  warnings.push({
    code: window.late,
    message: `${window.what} is stale (nextUpdate ${window.until.toISOString()}), accepted within the policy's collateral grace period`,
  });
  return new Date(window.untilMs + graceMs);
}

function window(
  what: string,
  path: string,
  from: Date,
  until: Date | undefined,
  early: ErrorCode,
  late: ErrorCode,
): Window {
  return {
    what,
    path,
    from,
    until,
    fromMs: from.getTime(),
    untilMs: until?.getTime() ?? Number.NaN,
    early,
    late,
  };
}

/** What every use of a signature-verified collateral checks, prepared once per collateral. */
interface CollateralPlan {
  readonly windows: readonly Window[];
}

const plans = new WeakMap<SignedCollateral, CollateralPlan>();

/**
 * The date windows of the collateral (with their epoch milliseconds and messages), and — made once, as
 * they compare bytes of this collateral only — the checks that the Root CA CRL is the issuer of the TCB
 * Signing and PCK CA certificates (`checkCollateralAt` still looks their serials up on every use).
 */
function planOf(signed: SignedCollateral): CollateralPlan {
  const known = plans.get(signed);
  if (known !== undefined) return known;
  const { tcbInfo, qeIdentity, pckCrl, rootCaCrl } = signed;
  const plan: CollateralPlan = {
    windows: [
      window(
        `TCB Info (${tcbInfo.id})`,
        'collateral/tcbInfo',
        tcbInfo.issueDate,
        tcbInfo.nextUpdate,
        ErrorCode.COLLATERAL_NOT_YET_VALID,
        ErrorCode.COLLATERAL_EXPIRED,
      ),
      window(
        `QE Identity (${qeIdentity.id})`,
        'collateral/qeIdentity',
        qeIdentity.issueDate,
        qeIdentity.nextUpdate,
        ErrorCode.COLLATERAL_NOT_YET_VALID,
        ErrorCode.COLLATERAL_EXPIRED,
      ),
      window(
        `PCK CRL (${pckCrl.issuer})`,
        'collateral/pckCrl',
        pckCrl.thisUpdate,
        pckCrl.nextUpdate,
        ErrorCode.CRL_NOT_YET_VALID,
        ErrorCode.CRL_EXPIRED,
      ),
      window(
        'Root CA CRL',
        'collateral/rootCaCrl',
        rootCaCrl.thisUpdate,
        rootCaCrl.nextUpdate,
        ErrorCode.CRL_NOT_YET_VALID,
        ErrorCode.CRL_EXPIRED,
      ),
    ],
  };
  checkCrlCovers(signed.tcbInfoChain[0]!, rootCaCrl, 'collateral/tcbInfoIssuerChain[0]');
  checkCrlCovers(signed.qeIdentityChain[0]!, rootCaCrl, 'collateral/qeIdentityIssuerChain[0]');
  checkCrlCovers(signed.pckCrlChain[0]!, rootCaCrl, 'collateral/pckCrlIssuerChain[0]');
  plans.set(signed, plan);
  return plan;
}

/** A full `verifyChainMemo` with the error path, for a chain `knownChain` has no answer for. */
function issuerChain(
  certificates: readonly Certificate[],
  options: ChainOptions,
  path: string,
): Promise<VerifiedChain> {
  return verifyChainMemo(certificates, { ...options, path });
}

/**
 * Per-use checks of signature-verified collateral at `at`: issuer chains valid at `at` up to one trust
 * anchor, TCB Signing certificate and PCK CA not revoked by the Root CA CRL, and every date window.
 *
 * Does not check: the PCK certificate or its CA from the quote (see `verify.ts`).
 */
export async function checkCollateralAt(
  signed: SignedCollateral,
  options: CollateralCheckOptions,
): Promise<CollateralCheck> {
  const { at, anchors } = options;
  const graceMs = options.graceMs ?? 0;
  const chainOptions: ChainOptions = { at, anchors, maxLength: 2 };
  // Memoised chains are taken without an await; the others are verified (and memoised).
  const tcbChain =
    knownChain(signed.tcbInfoChain, chainOptions) ??
    (await issuerChain(signed.tcbInfoChain, chainOptions, 'collateral/tcbInfoIssuerChain'));
  const qeChain =
    knownChain(signed.qeIdentityChain, chainOptions) ??
    (await issuerChain(signed.qeIdentityChain, chainOptions, 'collateral/qeIdentityIssuerChain'));
  const crlChain =
    knownChain(signed.pckCrlChain, chainOptions) ??
    (await issuerChain(signed.pckCrlChain, chainOptions, 'collateral/pckCrlIssuerChain'));
  const anchor = tcbChain.anchor;
  if (!sameAnchor(qeChain.anchor, anchor) || !sameAnchor(crlChain.anchor, anchor)) {
    throw new VeriteeError(
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
      'collateral issuer chains end at different roots',
      {
        path: 'collateral',
      },
    );
  }
  const plan = planOf(signed);
  // The Root CA CRL was signature-checked against pckCrlChain[1], which verifyChain just tied to the anchor;
  // planOf checked it is the issuer's CRL for each of these.
  checkSerialNotRevoked(signed.tcbInfoChain[0]!, signed.rootCaCrl, 'collateral/tcbInfoIssuerChain[0]');
  checkSerialNotRevoked(signed.qeIdentityChain[0]!, signed.rootCaCrl, 'collateral/qeIdentityIssuerChain[0]');
  checkSerialNotRevoked(signed.pckCrlChain[0]!, signed.rootCaCrl, 'collateral/pckCrlIssuerChain[0]');
  const warnings: Issue[] = [];
  // Compared as numbers: `<` on Dates goes through valueOf.
  let validUntil = tcbChain.validUntil;
  if (qeChain.validUntil.getTime() < validUntil.getTime()) validUntil = qeChain.validUntil;
  if (crlChain.validUntil.getTime() < validUntil.getTime()) validUntil = crlChain.validUntil;
  const t = at.getTime();
  for (const window of plan.windows) {
    const until = checkWindow(window, at, t, graceMs, warnings);
    if (until.getTime() < validUntil.getTime()) validUntil = until;
  }
  return { validUntil, warnings, anchor };
}
