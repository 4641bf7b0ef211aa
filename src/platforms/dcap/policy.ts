/**
 * The `tcb` policy section for Intel SGX and TDX: which TCB statuses, advisories and collateral ages a
 * relying party accepts. Parsed once by {@link parseTcbPolicy} (unknown keys are errors) and frozen.
 *
 * ```json
 * "tcb": {
 *   "allowedStatuses": ["UpToDate", "SWHardeningNeeded"],
 *   "allowedAdvisories": ["INTEL-SA-00615"],
 *   "minEvaluationDataNumber": 17,
 *   "outOfDateGraceSeconds": 2592000,
 *   "collateralGraceSeconds": 86400
 * }
 * ```
 */
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { Policy } from '../../policy/types.js';
import { isTcbStatus, TCB_STATUSES, type TcbStatus } from './tcb-status.js';

export interface TcbPolicy {
  /**
   * Statuses accepted. Default `["UpToDate"]`. Any other listed status is accepted with a warning.
   * `Revoked` can never be listed.
   */
  readonly allowedStatuses: readonly TcbStatus[];
  /** When set, every advisory ID on the result must be listed. Unset: advisories are not checked. */
  readonly allowedAdvisories?: readonly string[] | undefined;
  /** Minimum tcbEvaluationDataNumber of both TCB Info and QE Identity. Unset: not checked. */
  readonly minEvaluationDataNumber?: number | undefined;
  /**
   * Accept an OutOfDate status (with a warning) for this many seconds after the platform fell behind (the
   * tcbDate of the first TCB recovery it misses). OutOfDateConfigurationNeeded also qualifies when
   * ConfigurationNeeded is allowed. Unset: no grace.
   */
  readonly outOfDateGraceSeconds?: number | undefined;
  /** Accept TCB Info, QE Identity and CRLs this many seconds past nextUpdate, with a warning. Default 0. */
  readonly collateralGraceSeconds: number;
}

export const DEFAULT_TCB_POLICY: TcbPolicy = Object.freeze({
  allowedStatuses: Object.freeze(['UpToDate'] as TcbStatus[]),
  collateralGraceSeconds: 0,
});

const KEYS = new Set([
  'allowedStatuses',
  'allowedAdvisories',
  'minEvaluationDataNumber',
  'outOfDateGraceSeconds',
  'collateralGraceSeconds',
]);

const parsed = new WeakSet<object>();

function invalid(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.POLICY_INVALID, message, { path });
}

function seconds(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid('must be a non-negative whole number of seconds', path);
  }
  return value;
}

/** Validates a `tcb` policy section. */
export function parseTcbPolicy(value: unknown, path = 'policy/tcb'): TcbPolicy {
  if (typeof value === 'object' && value !== null && parsed.has(value)) return value as TcbPolicy;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('must be an object', path);
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KEYS.has(key))
      throw invalid(`unknown key "${key}" (known: ${[...KEYS].join(', ')})`, `${path}/${key}`);
  }
  let allowedStatuses: TcbStatus[] = ['UpToDate'];
  if (input.allowedStatuses !== undefined) {
    if (!Array.isArray(input.allowedStatuses) || input.allowedStatuses.length === 0) {
      throw invalid('must be a non-empty list of TCB statuses', `${path}/allowedStatuses`);
    }
    allowedStatuses = input.allowedStatuses.map((item, i) => {
      const itemPath = `${path}/allowedStatuses[${i}]`;
      if (!isTcbStatus(item))
        throw invalid(`unknown TCB status (known: ${TCB_STATUSES.join(', ')})`, itemPath);
      if (item === 'Revoked') throw invalid('a Revoked platform can never be accepted', itemPath);
      return item;
    });
  }
  let allowedAdvisories: string[] | undefined;
  if (input.allowedAdvisories !== undefined) {
    if (!Array.isArray(input.allowedAdvisories))
      throw invalid('must be a list of advisory IDs', `${path}/allowedAdvisories`);
    allowedAdvisories = input.allowedAdvisories.map((item, i) => {
      if (typeof item !== 'string' || !/^INTEL-SA-\d{5}$/.test(item)) {
        throw invalid('must be an advisory ID like INTEL-SA-00615', `${path}/allowedAdvisories[${i}]`);
      }
      return item;
    });
  }
  let minEvaluationDataNumber: number | undefined;
  if (input.minEvaluationDataNumber !== undefined) {
    const n = input.minEvaluationDataNumber;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw invalid('must be a non-negative integer', `${path}/minEvaluationDataNumber`);
    }
    minEvaluationDataNumber = n;
  }
  const policy: TcbPolicy = Object.freeze({
    allowedStatuses: Object.freeze(allowedStatuses),
    allowedAdvisories: allowedAdvisories === undefined ? undefined : Object.freeze(allowedAdvisories),
    minEvaluationDataNumber,
    outOfDateGraceSeconds:
      input.outOfDateGraceSeconds === undefined
        ? undefined
        : seconds(input.outOfDateGraceSeconds, `${path}/outOfDateGraceSeconds`),
    collateralGraceSeconds:
      input.collateralGraceSeconds === undefined
        ? 0
        : seconds(input.collateralGraceSeconds, `${path}/collateralGraceSeconds`),
  });
  parsed.add(policy);
  return policy;
}

/** The `tcb` section of a policy (validated), or the default when the policy has none. */
export function tcbPolicyOf(policy: Policy | undefined): TcbPolicy {
  const section = policy?.sections.tcb;
  return section === undefined ? DEFAULT_TCB_POLICY : parseTcbPolicy(section);
}

/**
 * The `tdx` policy section: requirements on a TD's own report that are not measurements. Applies to TDX
 * evidence only (SGX evidence is not a TD).
 *
 * ```json
 * "tdx": {
 *   "requireSeptVeDisable": true,
 *   "mrServiceTd": "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
 * }
 * ```
 */
export interface TdxPolicy {
  /** When true, the TD attribute SEPT_VE_DISABLE (bit 28) must be set. Default false: not checked. */
  readonly requireSeptVeDisable: boolean;
  /**
   * When set (lowercase hex, 48 bytes), MRSERVICETD must equal it; all zeros means "no service TD bound".
   * Only a TDX 1.5 report carries MRSERVICETD: a TDX 1.0 report fails this requirement.
   */
  readonly mrServiceTd?: string | undefined;
}

export const DEFAULT_TDX_POLICY: TdxPolicy = Object.freeze({ requireSeptVeDisable: false });

const TDX_KEYS = new Set(['requireSeptVeDisable', 'mrServiceTd']);

const parsedTdx = new WeakSet<object>();

/** Validates a `tdx` policy section. */
export function parseTdxPolicy(value: unknown, path = 'policy/tdx'): TdxPolicy {
  if (typeof value === 'object' && value !== null && parsedTdx.has(value)) return value as TdxPolicy;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('must be an object', path);
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!TDX_KEYS.has(key))
      throw invalid(`unknown key "${key}" (known: ${[...TDX_KEYS].join(', ')})`, `${path}/${key}`);
  }
  const requireSept = input.requireSeptVeDisable;
  if (requireSept !== undefined && typeof requireSept !== 'boolean')
    throw invalid('must be true or false', `${path}/requireSeptVeDisable`);
  let mrServiceTd: string | undefined;
  if (input.mrServiceTd !== undefined) {
    const text = input.mrServiceTd;
    if (typeof text !== 'string' || !/^[0-9a-fA-F]{96}$/.test(text)) {
      throw invalid('must be 48 bytes as 96 hex digits (all zeros: no service TD)', `${path}/mrServiceTd`);
    }
    mrServiceTd = text.toLowerCase();
  }
  const policy: TdxPolicy = Object.freeze({ requireSeptVeDisable: requireSept === true, mrServiceTd });
  parsedTdx.add(policy);
  return policy;
}

/** The `tdx` section of a policy (validated), or the default (nothing required) when it has none. */
export function tdxPolicyOf(policy: Policy | undefined): TdxPolicy {
  const section = policy?.sections.tdx;
  return section === undefined ? DEFAULT_TDX_POLICY : parseTdxPolicy(section);
}
