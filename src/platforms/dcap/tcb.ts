/**
 * Intel's TCB evaluation for DCAP quotes, as specified for the Intel Quote Verification Library
 * ("Intel SGX/TDX DCAP Quote Verification Library", TCB level selection and status convergence; Intel PCS
 * API "TCB Info" v3 model for the TDX fields):
 *
 *  1. Platform TCB level: the first level in the TCB Info (Intel orders them from highest to lowest) whose
 *     16 SGX component SVNs are all ≤ the PCK certificate's, whose PCESVN is ≤ the PCK certificate's, and
 *     — for TDX — whose 16 TDX component SVNs are ≤ the quote's TEE_TCB_SVN, except that when
 *     TEE_TCB_SVN[1] (the TDX module major version) is non-zero, bytes 0–1 are not compared here: the
 *     module is graded by `tdxModuleIdentities` instead (id `TDX_<major, 2 hex digits>`, TCB level by
 *     ISVSVN = TEE_TCB_SVN[0]).
 *  2. TDX module: MRSIGNERSEAM and SEAMATTRIBUTES (under the mask) must match the module identity (or the
 *     `tdxModule` entry when no identity applies). An OutOfDate module turns UpToDate/SWHardeningNeeded into
 *     OutOfDate and the Configuration* statuses into OutOfDateConfigurationNeeded; a Revoked one, Revoked.
 *  3. QE Identity: MISCSELECT and ATTRIBUTES under their masks, MRSIGNER and ISVPRODID must match the QE
 *     report; the QE TCB level is the first whose ISVSVN ≤ the QE report's.
 *  4. Convergence: a Revoked QE makes the result Revoked; an OutOfDate QE degrades the platform status as
 *     in step 2; otherwise the platform status stands. Advisory IDs are the union, platform first.
 *
 * No matching level (platform, module or QE) is an error (TCB_NO_MATCH), never a status.
 *
 * Does not check: signatures, dates or revocation of the collateral (see `collateral.ts`), nor that the
 * collateral belongs to this platform (FMSPC, PCE-ID, TEE type — see `verify.ts`).
 */
import { equalBytes, toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { IsvSvnLevel, QeIdentity, TcbInfo, TcbLevel, TdxModule } from './collateral.js';
import type { PckExtension } from './pck.js';
import type { SgxReport, TdReport } from './quote.js';
import type { TcbStatus } from './tcb-status.js';

export interface ComponentResult {
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly tcbDate: string;
  /**
   * For an out-of-date result: the tcbDate of the nearest higher level, i.e. when this component first
   * fell behind (undefined when no higher level exists).
   */
  readonly outOfDateSince?: string | undefined;
}

export interface TcbEvaluation {
  readonly status: TcbStatus;
  readonly advisoryIds: readonly string[];
  readonly platform: ComponentResult;
  readonly tdxModule?: (ComponentResult & { readonly id: string }) | undefined;
  readonly qe: ComponentResult;
  /** The earliest `outOfDateSince` among the components that made the status out of date. */
  readonly outOfDateSince?: string | undefined;
  readonly tcbDate: string;
  readonly evaluationDataNumber: number;
}

function noMatch(message: string, path: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.TCB_NO_MATCH, message, { path, details });
}

function mismatch(message: string, path: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_MISMATCH, message, { path, details });
}

function allAtLeast(have: ArrayLike<number>, need: readonly number[], from: number): boolean {
  for (let i = from; i < need.length; i++) if (have[i]! < need[i]!) return false;
  return true;
}

function isOutOfDate(status: TcbStatus): boolean {
  return status === 'OutOfDate' || status === 'OutOfDateConfigurationNeeded';
}

/** An OutOfDate component degrades a status (QVL status convergence). */
function degradeForOutOfDate(status: TcbStatus): TcbStatus {
  switch (status) {
    case 'UpToDate':
    case 'SWHardeningNeeded':
      return 'OutOfDate';
    case 'ConfigurationNeeded':
    case 'ConfigurationAndSWHardeningNeeded':
      return 'OutOfDateConfigurationNeeded';
    default:
      return status;
  }
}

/** Advisory IDs of the components, each once, in order. */
function union(lists: readonly (readonly string[] | undefined)[]): string[] {
  const out: string[] = [];
  for (const list of lists) {
    if (list === undefined) continue;
    for (const id of list) if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** TDX module major version is TEE_TCB_SVN[1]; non-zero means module identities grade bytes 0–1. */
export function tdxModuleMajor(teeTcbSvn: Uint8Array): number {
  return teeTcbSvn[1]!;
}

/** Step 1: the platform TCB level for the PCK certificate's SVNs (and the TD's TEE_TCB_SVN). */
export function selectPlatformLevel(
  tcbInfo: TcbInfo,
  pck: PckExtension,
  td?: TdReport,
): { level: TcbLevel; index: number } {
  const tdxFrom = td !== undefined && tdxModuleMajor(td.teeTcbSvn) > 0 ? 2 : 0;
  for (const [index, level] of tcbInfo.tcbLevels.entries()) {
    if (!allAtLeast(pck.tcbComponents, level.sgxComponents, 0)) continue;
    if (pck.pceSvn < level.pceSvn) continue;
    if (td !== undefined) {
      if (level.tdxComponents === undefined) continue;
      if (!allAtLeast(td.teeTcbSvn, level.tdxComponents, tdxFrom)) continue;
    }
    return { level, index };
  }
  const tdxText = td === undefined ? '' : `, TEE_TCB_SVN ${toHex(td.teeTcbSvn)}`;
  throw noMatch(
    'no TCB level in the TCB Info matches this platform (TCB level not supported)',
    'collateral/tcbInfo/tcbLevels',
    `PCK SVNs [${pck.tcbComponents.join(', ')}], PCESVN ${pck.pceSvn}${tdxText}`,
  );
}

function outOfDateSince(levels: readonly { tcbDate: string }[], index: number): string | undefined {
  return index > 0 ? levels[index - 1]!.tcbDate : undefined;
}

/** `value & mask` (a missing mask byte counts as 0) equals `expected`, compared without a masked copy. */
function maskedEquals(value: Uint8Array, mask: Uint8Array, expected: Uint8Array): boolean {
  if (value.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < value.length; i++) diff |= (value[i]! & (mask[i] ?? 0)) ^ expected[i]!;
  return diff === 0;
}

function checkModule(module: TdxModule, td: TdReport, path: string): void {
  if (!equalBytes(td.mrSignerSeam, module.mrSigner)) {
    throw mismatch(
      'TDX module MRSIGNERSEAM does not match the TCB Info',
      `${path}/mrsigner`,
      toHex(td.mrSignerSeam),
    );
  }
  if (!maskedEquals(td.seamAttributes, module.attributesMask, module.attributes)) {
    throw mismatch(
      'TDX module SEAMATTRIBUTES do not match the TCB Info',
      `${path}/attributes`,
      toHex(td.seamAttributes),
    );
  }
}

function firstIsvSvnLevel(levels: readonly IsvSvnLevel[], isvSvn: number): number {
  return levels.findIndex((level) => level.isvSvn <= isvSvn);
}

// The module identity id for each major version (`TDX_<major, 2 upper-case hex digits>`).
const TDX_MODULE_IDS: readonly string[] = Array.from(
  { length: 256 },
  (_, major) => `TDX_${major.toString(16).toUpperCase().padStart(2, '0')}`,
);

export function evaluateTdxModule(
  tcbInfo: TcbInfo,
  td: TdReport,
): (ComponentResult & { readonly id: string }) | undefined {
  const major = tdxModuleMajor(td.teeTcbSvn);
  const identities = tcbInfo.tdxModuleIdentities;
  if (major > 0 && identities !== undefined) {
    const id = TDX_MODULE_IDS[major]!;
    // Ids are compared case-insensitively; real TCB Info spells them in upper case, as `id` is.
    const index = identities.findIndex((identity) => identity.id === id || identity.id.toUpperCase() === id);
    if (index < 0) {
      throw noMatch(`TCB Info has no TDX module identity ${id}`, 'collateral/tcbInfo/tdxModuleIdentities');
    }
    const identity = identities[index]!;
    const path = `collateral/tcbInfo/tdxModuleIdentities[${index}]`;
    checkModule(identity, td, path);
    const isvSvn = td.teeTcbSvn[0]!;
    const levelIndex = firstIsvSvnLevel(identity.tcbLevels, isvSvn);
    if (levelIndex < 0) {
      throw noMatch(`no TCB level of TDX module ${id} matches ISVSVN ${isvSvn}`, `${path}/tcbLevels`);
    }
    const level = identity.tcbLevels[levelIndex]!;
    return {
      id,
      status: level.status,
      advisoryIds: level.advisoryIds,
      tcbDate: level.tcbDate,
      outOfDateSince: outOfDateSince(identity.tcbLevels, levelIndex),
    };
  }
  if (tcbInfo.tdxModule !== undefined) checkModule(tcbInfo.tdxModule, td, 'collateral/tcbInfo/tdxModule');
  return undefined;
}

/** Step 3: the QE report against the QE Identity, and its TCB level. */
export function evaluateQeIdentity(identity: QeIdentity, qeReport: SgxReport): ComponentResult {
  const path = 'collateral/qeIdentity';
  if ((qeReport.miscSelect & identity.miscSelectMask) >>> 0 !== identity.miscSelect) {
    throw mismatch('QE report MISCSELECT does not match the QE Identity', `${path}/miscselect`);
  }
  if (!maskedEquals(qeReport.attributes, identity.attributesMask, identity.attributes)) {
    throw mismatch(
      'QE report ATTRIBUTES do not match the QE Identity',
      `${path}/attributes`,
      toHex(qeReport.attributes),
    );
  }
  if (!equalBytes(qeReport.mrSigner, identity.mrSigner)) {
    throw mismatch(
      'QE report MRSIGNER does not match the QE Identity',
      `${path}/mrsigner`,
      toHex(qeReport.mrSigner),
    );
  }
  if (qeReport.isvProdId !== identity.isvProdId) {
    throw mismatch(
      `QE report ISVPRODID ${qeReport.isvProdId} does not match the QE Identity (${identity.isvProdId})`,
      `${path}/isvprodid`,
    );
  }
  const index = firstIsvSvnLevel(identity.tcbLevels, qeReport.isvSvn);
  if (index < 0) {
    throw noMatch(`no QE Identity TCB level matches QE ISVSVN ${qeReport.isvSvn}`, `${path}/tcbLevels`);
  }
  const level = identity.tcbLevels[index]!;
  return {
    status: level.status,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
    outOfDateSince: outOfDateSince(identity.tcbLevels, index),
  };
}

/** Steps 2 and 4: folds a component's status into the running status. */
function converge(status: TcbStatus, component: TcbStatus): TcbStatus {
  if (component === 'Revoked') return 'Revoked';
  if (isOutOfDate(component)) return degradeForOutOfDate(status);
  return status;
}

/** Runs the whole evaluation for a quote's platform. */
export function evaluateTcb(input: {
  readonly tcbInfo: TcbInfo;
  readonly qeIdentity: QeIdentity;
  readonly pck: PckExtension;
  readonly qeReport: SgxReport;
  readonly td?: TdReport | undefined;
}): TcbEvaluation {
  const { tcbInfo, qeIdentity, pck, qeReport, td } = input;
  const { level, index } = selectPlatformLevel(tcbInfo, pck, td);
  const platform: ComponentResult = {
    status: level.status,
    advisoryIds: level.advisoryIds,
    tcbDate: level.tcbDate,
    outOfDateSince: outOfDateSince(tcbInfo.tcbLevels, index),
  };
  const tdxModule = td === undefined ? undefined : evaluateTdxModule(tcbInfo, td);
  const qe = evaluateQeIdentity(qeIdentity, qeReport);
  let status = platform.status;
  if (tdxModule !== undefined) status = converge(status, tdxModule.status);
  status = converge(status, qe.status);
  // The earliest date among the out-of-date components (ISO dates: string order is time order).
  let behind: string | undefined;
  if (isOutOfDate(status)) {
    for (const c of [platform, tdxModule, qe]) {
      if (c === undefined || !isOutOfDate(c.status)) continue;
      const since = c.outOfDateSince ?? c.tcbDate;
      if (behind === undefined || since < behind) behind = since;
    }
  }
  return {
    status,
    advisoryIds: union([platform.advisoryIds, tdxModule?.advisoryIds, qe.advisoryIds]),
    platform,
    tdxModule,
    qe,
    outOfDateSince: behind,
    tcbDate: platform.tcbDate,
    evaluationDataNumber: tcbInfo.tcbEvaluationDataNumber,
  };
}
