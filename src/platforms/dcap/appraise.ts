/**
 * Appraisal of the `tcb` and `tdx` policy sections for verified SGX/TDX evidence: a pure function of the verified
 * claims and the policy. Runs every check and reports what was found and what was wanted.
 *
 * Does not check: signatures, chains, collateral dates (the verify step did, with the collateral grace
 * period), nor measurements, debug and report data (the common appraiser does, from `claims`).
 */
import { ErrorCode } from '../../errors.js';
import type { Policy } from '../../policy/types.js';
import type { Check, Issue, VerifiedEvidence } from '../../result.js';
import type { PlatformAppraisal } from '../types.js';
import { type TcbPolicy, type TdxPolicy, tcbPolicyOf, tdxPolicyOf } from './policy.js';
import type { TcbStatus } from './tcb-status.js';
import type { DcapClaims } from './verify.js';

function isDcapClaims(value: unknown): value is DcapClaims {
  return typeof value === 'object' && value !== null && 'tcb' in value && 'teeType' in value;
}

function graceCovers(claims: DcapClaims, policy: TcbPolicy, at: Date): { ok: boolean; detail: string } {
  const status = claims.tcb.status;
  const grace = policy.outOfDateGraceSeconds;
  if (grace === undefined) return { ok: false, detail: 'no outOfDateGraceSeconds in the policy' };
  if (status === 'OutOfDateConfigurationNeeded' && !policy.allowedStatuses.includes('ConfigurationNeeded')) {
    return { ok: false, detail: 'OutOfDateConfigurationNeeded also needs ConfigurationNeeded to be allowed' };
  }
  const since = claims.tcb.outOfDateSince;
  if (since === undefined) return { ok: false, detail: 'the date the platform fell behind is unknown' };
  const end = new Date(Date.parse(since) + grace * 1000);
  return at <= end
    ? { ok: true, detail: `within the ${grace} s grace period after ${since} (until ${end.toISOString()})` }
    : { ok: false, detail: `the ${grace} s grace period after ${since} ended ${end.toISOString()}` };
}

function checkStatus(claims: DcapClaims, policy: TcbPolicy, at: Date, warnings: Issue[]): Check {
  const status: TcbStatus = claims.tcb.status;
  const allowed = policy.allowedStatuses;
  if (status === 'UpToDate' && allowed.includes(status)) {
    return { id: 'policy.tcb.status', ok: true, detail: 'TCB status UpToDate' };
  }
  if (status !== 'Revoked' && allowed.includes(status)) {
    warnings.push({ code: ErrorCode.POLICY_VIOLATION, message: `TCB status ${status} accepted by policy` });
    return {
      id: 'policy.tcb.status',
      ok: true,
      detail: `TCB status ${status} is allowed by policy (warning)`,
    };
  }
  if (status === 'OutOfDate' || status === 'OutOfDateConfigurationNeeded') {
    const grace = graceCovers(claims, policy, at);
    if (grace.ok) {
      warnings.push({
        code: ErrorCode.POLICY_VIOLATION,
        message: `TCB status ${status} accepted ${grace.detail}`,
      });
      return { id: 'policy.tcb.status', ok: true, detail: `TCB status ${status} accepted ${grace.detail}` };
    }
    return {
      id: 'policy.tcb.status',
      ok: false,
      detail: `TCB status is ${status}, wanted one of ${allowed.join(', ')} (${grace.detail})`,
    };
  }
  return {
    id: 'policy.tcb.status',
    ok: false,
    detail: `TCB status is ${status}, wanted one of ${allowed.join(', ')}`,
  };
}

function checkAdvisories(claims: DcapClaims, policy: TcbPolicy): Check | undefined {
  if (policy.allowedAdvisories === undefined) return undefined;
  const extra = claims.tcb.advisoryIds.filter((id) => !policy.allowedAdvisories!.includes(id));
  return extra.length === 0
    ? {
        id: 'policy.tcb.advisories',
        ok: true,
        detail: `advisories ${claims.tcb.advisoryIds.join(', ') || 'none'} are allowed`,
      }
    : {
        id: 'policy.tcb.advisories',
        ok: false,
        detail: `advisories not allowed by policy: ${extra.join(', ')}`,
      };
}

function checkEvaluationNumber(claims: DcapClaims, policy: TcbPolicy): Check | undefined {
  const min = policy.minEvaluationDataNumber;
  if (min === undefined) return undefined;
  const found = Math.min(claims.tcb.evaluationDataNumber, claims.tcb.qeEvaluationDataNumber);
  return {
    id: 'policy.tcb.evaluationDataNumber',
    ok: found >= min,
    detail: `tcbEvaluationDataNumber ${found} (TCB Info ${claims.tcb.evaluationDataNumber}, QE Identity ${claims.tcb.qeEvaluationDataNumber}), at least ${min} wanted`,
  };
}

/** The `tdx` section's requirements, for TDX evidence only; each unmet one is a failed check. */
function checkTdx(claims: DcapClaims, policy: TdxPolicy): Check[] {
  const checks: Check[] = [];
  if (claims.teeType !== 'tdx') return checks;
  const td = claims.tdx;
  if (policy.requireSeptVeDisable) {
    checks.push(
      td === undefined
        ? { id: 'policy.tdx.septVeDisable', ok: false, detail: 'the evidence carries no TD report' }
        : {
            id: 'policy.tdx.septVeDisable',
            ok: td.tdAttributeFlags.septVeDisable,
            detail: td.tdAttributeFlags.septVeDisable
              ? `TD attribute SEPT_VE_DISABLE is set (TDATTRIBUTES ${td.tdAttributes})`
              : `TD attribute SEPT_VE_DISABLE is not set (TDATTRIBUTES ${td.tdAttributes}), policy requires it`,
          },
    );
  }
  const wanted = policy.mrServiceTd;
  if (wanted !== undefined) {
    const found = td?.mrservicetd;
    checks.push(
      found === undefined
        ? {
            id: 'policy.tdx.mrServiceTd',
            ok: false,
            detail: `the TD report (version ${td?.tdReportVersion ?? 'none'}) has no MRSERVICETD (only TDX 1.5 reports do), policy requires ${wanted}`,
          }
        : {
            id: 'policy.tdx.mrServiceTd',
            ok: found === wanted,
            detail:
              found === wanted
                ? `MRSERVICETD is ${found}`
                : `MRSERVICETD is ${found}, policy requires ${wanted}`,
          },
    );
  }
  return checks;
}

/** Appraises the `tcb` section (or its defaults: UpToDate only) and the `tdx` section for SGX/TDX evidence. */
export function appraiseDcap(evidence: VerifiedEvidence, policy: Policy): PlatformAppraisal {
  const claims = evidence.platformClaims;
  if (!isDcapClaims(claims)) {
    return {
      checks: [{ id: 'policy.tcb', ok: false, detail: 'evidence carries no Intel TCB evaluation' }],
      warnings: [],
    };
  }
  const tcbPolicy = tcbPolicyOf(policy);
  const warnings: Issue[] = [];
  const checks = [
    checkStatus(claims, tcbPolicy, evidence.at, warnings),
    checkAdvisories(claims, tcbPolicy),
    checkEvaluationNumber(claims, tcbPolicy),
    ...checkTdx(claims, tdxPolicyOf(policy)),
  ].filter((check): check is Check => check !== undefined);
  return { checks, warnings };
}
