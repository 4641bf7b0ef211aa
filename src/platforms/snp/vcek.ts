/**
 * AMD's X.509 extensions on VCEK and VLEK certificates (AMD "Versioned Chip Endorsement Key (VCEK)
 * Certificate and KDS Interface Specification", doc 57230, §3 Table 8 "VCEK certificate extensions";
 * VLEK: doc 57230 §4, doc 58369).
 *
 * | OID                         | meaning                         | encoding     |
 * |-----------------------------|---------------------------------|--------------|
 * | 1.3.6.1.4.1.3704.1.1        | structVersion                   | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.2        | productName (`Milan-B0`, …)     | IA5String    |
 * | 1.3.6.1.4.1.3704.1.3.1      | blSPL (boot loader)             | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.3.2      | teeSPL                          | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.3.3      | snpSPL                          | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.3.4–.3.7 | spl_4 … spl_7 (reserved, zero)  | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.3.8      | ucodeSPL (microcode)            | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.3.9      | fmcSPL (Turin and later)        | INTEGER      |
 * | 1.3.6.1.4.1.3704.1.4        | hwID = CHIP_ID (VCEK only)      | raw bytes or OCTET STRING |
 * | 1.3.6.1.4.1.3704.1.5        | cspId (VLEK only)               | IA5String    |
 *
 * `parseVekExtensions` decodes them strictly (DER, right types, SPLs in 0..255). `checkVekMatchesReport`
 * compares them with the report: every TCB component equals REPORTED_TCB, hwID equals CHIP_ID (VCEK), the
 * product agrees. Does not check: the certificate's signature, validity or chain (see `verify.ts`).
 */
import { equalBytes, isAllZero, toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { Certificate } from '../../pki/certificate.js';
import { parseDer, readSmallInteger, readString, Tag } from '../../pki/der.js';
import type { SigningKeyKind } from './report.js';
import { type Product, productFromName, type TcbComponent, type TcbVersion } from './tcb.js';

const AMD_ARC = '1.3.6.1.4.1.3704.1';

export const AmdOid = {
  structVersion: `${AMD_ARC}.1`,
  productName: `${AMD_ARC}.2`,
  blSpl: `${AMD_ARC}.3.1`,
  teeSpl: `${AMD_ARC}.3.2`,
  snpSpl: `${AMD_ARC}.3.3`,
  spl4: `${AMD_ARC}.3.4`,
  spl5: `${AMD_ARC}.3.5`,
  spl6: `${AMD_ARC}.3.6`,
  spl7: `${AMD_ARC}.3.7`,
  ucodeSpl: `${AMD_ARC}.3.8`,
  fmcSpl: `${AMD_ARC}.3.9`,
  hwId: `${AMD_ARC}.4`,
  cspId: `${AMD_ARC}.5`,
} as const;

/** Every AMD extension OID this module understands (may be marked critical without failing the chain). */
export const AMD_EXTENSION_OIDS: readonly string[] = Object.values(AmdOid);

/** CHIP_ID is 64 bytes (Table 23); Turin VCEKs are issued for its first 8 bytes (the rest is zero). */
const CHIP_ID_SIZE = 64;
const TURIN_HWID_SIZE = 8;

export interface VekInfo {
  /** From the certificate: `vcek` when it carries a hwID, `vlek` when it carries a cspId. */
  readonly kind: SigningKeyKind;
  readonly structVersion: number | undefined;
  readonly productName: string | undefined;
  readonly product: Product | undefined;
  readonly tcb: {
    readonly bootloader: number;
    readonly tee: number;
    readonly snp: number;
    readonly microcode: number;
    readonly fmc: number | undefined;
    /** spl_4 … spl_7, when present (reserved; must be zero). */
    readonly reserved: readonly number[];
  };
  /** hwID (VCEK), 64 bytes, or 8 on Turin. */
  readonly hwId: Uint8Array | undefined;
  /** Whether hwID was wrapped in an OCTET STRING (KDS certificates carry the raw bytes). */
  readonly hwIdWrapped: boolean;
  /** Cloud service provider (VLEK), e.g. `CN=cc-us-east-2.amazonaws.com`. */
  readonly cspId: string | undefined;
}

function extensionError(message: string, path: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.CERT_MALFORMED, message, { path, details });
}

function readSpl(certificate: Certificate, oid: string, path: string): number | undefined {
  const extension = certificate.extensions.get(oid);
  if (extension === undefined) return undefined;
  let value: number;
  try {
    value = readSmallInteger(parseDer(extension.value, path), path);
  } catch (error) {
    throw extensionError(`AMD extension ${oid} is not a DER INTEGER`, path, describe(error));
  }
  if (value > 255) throw extensionError(`AMD extension ${oid} is out of range 0..255`, path, `${value}`);
  return value;
}

function readIa5(certificate: Certificate, oid: string, path: string): string | undefined {
  const extension = certificate.extensions.get(oid);
  if (extension === undefined) return undefined;
  try {
    const element = parseDer(extension.value, path);
    if (element.tag !== Tag.IA5_STRING)
      throw extensionError(`AMD extension ${oid} is not an IA5String`, path);
    return readString(element, path);
  } catch (error) {
    if (error instanceof VeriteeError && error.code === ErrorCode.CERT_MALFORMED) throw error;
    throw extensionError(`AMD extension ${oid} is not a DER IA5String`, path, describe(error));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 120) : String(error).slice(0, 120);
}

/**
 * hwID: KDS certificates put the 64 CHIP_ID bytes directly in extnValue; some tools wrap them in an OCTET
 * STRING (`04 40 …`). The two forms differ in length (64 vs 66, or 8 vs 10 on Turin), so they cannot be
 * confused.
 */
function readHwId(
  certificate: Certificate,
  path: string,
): { hwId: Uint8Array; wrapped: boolean } | undefined {
  const extension = certificate.extensions.get(AmdOid.hwId);
  if (extension === undefined) return undefined;
  const value = extension.value;
  if (value.length === CHIP_ID_SIZE || value.length === TURIN_HWID_SIZE) {
    return { hwId: value.slice(), wrapped: false };
  }
  if (value.length === CHIP_ID_SIZE + 2 || value.length === TURIN_HWID_SIZE + 2) {
    let element: ReturnType<typeof parseDer>;
    try {
      element = parseDer(value, path);
    } catch (error) {
      throw extensionError('hwID extension is malformed', path, describe(error));
    }
    if (element.tag === Tag.OCTET_STRING) return { hwId: element.value.slice(), wrapped: true };
  }
  throw extensionError('hwID extension has an unexpected length', path, `${value.length} bytes`);
}

/** Reads AMD's extensions from a VCEK or VLEK certificate. */
export function parseVekExtensions(certificate: Certificate, path = 'vek'): VekInfo {
  const spl = (oid: string, name: string): number | undefined => readSpl(certificate, oid, `${path}/${name}`);
  const bootloader = spl(AmdOid.blSpl, 'blSPL');
  const tee = spl(AmdOid.teeSpl, 'teeSPL');
  const snp = spl(AmdOid.snpSpl, 'snpSPL');
  const microcode = spl(AmdOid.ucodeSpl, 'ucodeSPL');
  if (bootloader === undefined || tee === undefined || snp === undefined || microcode === undefined) {
    throw new VeriteeError(ErrorCode.COLLATERAL_INVALID, 'certificate lacks the AMD TCB extensions', {
      path,
      details: `subject "${certificate.subject}"`,
    });
  }
  const reserved: number[] = [];
  for (const [oid, name] of [
    [AmdOid.spl4, 'spl_4'],
    [AmdOid.spl5, 'spl_5'],
    [AmdOid.spl6, 'spl_6'],
    [AmdOid.spl7, 'spl_7'],
  ] as const) {
    const value = spl(oid, name);
    if (value !== undefined) reserved.push(value);
  }
  const fmc = spl(AmdOid.fmcSpl, 'fmcSPL');
  const structVersion = readStructVersion(certificate, `${path}/structVersion`);
  const productName = readIa5(certificate, AmdOid.productName, `${path}/productName`);
  const product = productName === undefined ? undefined : productFromName(productName, `${path}/productName`);
  const hw = readHwId(certificate, `${path}/hwID`);
  const cspId = readIa5(certificate, AmdOid.cspId, `${path}/cspId`);
  if (hw !== undefined && cspId !== undefined) {
    throw new VeriteeError(ErrorCode.COLLATERAL_INVALID, 'certificate carries both a hwID and a cspId', {
      path,
    });
  }
  if (hw === undefined && cspId === undefined) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_INVALID,
      'certificate carries neither a hwID (VCEK) nor a cspId (VLEK)',
      { path, details: `subject "${certificate.subject}"` },
    );
  }
  return {
    kind: hw !== undefined ? 'vcek' : 'vlek',
    structVersion,
    productName,
    product,
    tcb: { bootloader, tee, snp, microcode, fmc, reserved },
    hwId: hw?.hwId,
    hwIdWrapped: hw?.wrapped ?? false,
    cspId,
  };
}

function readStructVersion(certificate: Certificate, path: string): number | undefined {
  const extension = certificate.extensions.get(AmdOid.structVersion);
  if (extension === undefined) return undefined;
  try {
    return readSmallInteger(parseDer(extension.value, path), path);
  } catch (error) {
    throw extensionError('structVersion extension is not a DER INTEGER', path, describe(error));
  }
}

function mismatch(message: string, path: string, details: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_MISMATCH, message, { path, details });
}

/**
 * Checks the certificate's TCB extensions against REPORTED_TCB (decoded for `product`): boot loader, TEE,
 * SNP, microcode, and FMC on products that have it; the reserved spl_4…spl_7 must be zero.
 */
export function checkVekTcb(vek: VekInfo, reportedTcb: TcbVersion, path = 'vek'): void {
  const components: TcbComponent[] = ['bootloader', 'tee', 'snp', 'microcode'];
  for (const component of components) {
    if (vek.tcb[component] !== reportedTcb[component]) {
      throw mismatch(
        `certificate ${component} SPL differs from the report's REPORTED_TCB`,
        path,
        `certificate ${vek.tcb[component]}, report ${reportedTcb[component]}`,
      );
    }
  }
  if (reportedTcb.fmc !== undefined || vek.tcb.fmc !== undefined) {
    if (vek.tcb.fmc !== reportedTcb.fmc) {
      throw mismatch(
        "certificate FMC SPL differs from the report's REPORTED_TCB",
        path,
        `certificate ${vek.tcb.fmc ?? 'absent'}, report ${reportedTcb.fmc ?? 'absent'}`,
      );
    }
  }
  if (vek.tcb.reserved.some((value) => value !== 0)) {
    throw mismatch('certificate reserved SPL extensions are not zero', path, vek.tcb.reserved.join(','));
  }
}

/**
 * Checks hwID against CHIP_ID for a VCEK. 64-byte hwIDs must equal CHIP_ID; an 8-byte hwID is accepted
 * only on Turin, where it must equal CHIP_ID's first 8 bytes and the rest of CHIP_ID must be zero.
 * A VCEK cannot vouch for a report whose CHIP_ID is masked (all zero).
 */
export function checkVekHwId(vek: VekInfo, chipId: Uint8Array, product: Product, path = 'vek/hwID'): void {
  if (vek.hwId === undefined) {
    throw new VeriteeError(ErrorCode.COLLATERAL_INVALID, 'VCEK certificate has no hwID', { path });
  }
  if (isAllZero(chipId)) {
    throw new VeriteeError(
      ErrorCode.EVIDENCE_INVALID,
      'report CHIP_ID is masked (all zero), so it cannot be bound to a VCEK',
      { path: 'report/chip_id' },
    );
  }
  if (vek.hwId.length === CHIP_ID_SIZE) {
    if (!equalBytes(vek.hwId, chipId)) {
      throw mismatch(
        'VCEK hwID differs from the report CHIP_ID: the VCEK is for another chip',
        path,
        short(vek.hwId),
      );
    }
    return;
  }
  if (product !== 'Turin') {
    throw mismatch('an 8-byte hwID is only valid for Turin', path, `product ${product}`);
  }
  if (
    !equalBytes(vek.hwId, chipId.subarray(0, TURIN_HWID_SIZE)) ||
    !isAllZero(chipId.subarray(TURIN_HWID_SIZE))
  ) {
    throw mismatch(
      'VCEK hwID differs from the report CHIP_ID: the VCEK is for another chip',
      path,
      short(vek.hwId),
    );
  }
}

function short(bytes: Uint8Array): string {
  return `certificate hwID ${toHex(bytes.subarray(0, 8))}…`;
}
