/**
 * Appraisal: a pure function of verified evidence and a policy. It runs every check (it does not stop at
 * the first failure) and reports each with the value found and the value wanted. It does not verify
 * signatures or chains: it trusts that `evidence` came out of a platform's verify step.
 */
import { backend } from '#crypto';
import { fromHex, toHex } from '../bytes.js';
import { ErrorCode } from '../errors.js';
import type { PlatformAppraisal } from '../platforms/types.js';
import type { AttestationResult, Check, Issue, Verdict, VerifiedEvidence } from '../result.js';
import { type ByteMatch, DEFAULT_PLATFORMS, type Policy } from './types.js';

/** Clock skew tolerated between the attester's timestamp and the verifier's `at`. */
export const MAX_CLOCK_SKEW_MS = 60_000;

function short(hex: string): string {
  return hex.length > 24 ? `${hex.slice(0, 24)}…` : hex;
}

function checkPlatform(evidence: VerifiedEvidence, policy: Policy): Check {
  const allowed = policy.platforms ?? DEFAULT_PLATFORMS;
  const ok = allowed.includes(evidence.platform);
  const detail = ok
    ? `platform ${evidence.platform} is allowed`
    : evidence.platform === 'sim'
      ? 'simulator evidence is accepted only by a policy that lists "sim" in platforms'
      : `platform ${evidence.platform} is not in the allowed list (${allowed.join(', ')})`;
  return { id: 'policy.platform', ok, detail };
}

function checkDebug(evidence: VerifiedEvidence, policy: Policy): Check {
  const ok = !evidence.claims.debug || policy.allowDebug;
  const detail = !evidence.claims.debug
    ? 'not a debug enclave'
    : ok
      ? 'debug enclave, allowed by policy'
      : 'debug enclave: its memory is readable by the host, and the policy does not allow debug';
  return { id: 'policy.debug', ok, detail };
}

function checkMeasurements(evidence: VerifiedEvidence, policy: Policy): Check[] {
  const out: Check[] = [];
  for (const [register, allowed] of Object.entries(policy.measurements ?? {})) {
    const found = evidence.claims.measurements[register];
    const id = `policy.measurement.${register}`;
    if (found === undefined) {
      out.push({ id, ok: false, detail: `evidence has no ${register}` });
    } else if (allowed.includes(found)) {
      out.push({ id, ok: true, detail: `${register} ${short(found)} is allowed` });
    } else {
      out.push({
        id,
        ok: false,
        detail: `${register} is ${found}, wanted one of ${allowed.map(short).join(', ')}`,
      });
    }
  }
  return out;
}

function matches(valueHex: string, match: ByteMatch): { ok: boolean; wanted: string; found: string } {
  if ('equals' in match) return { ok: valueHex === match.equals, wanted: match.equals, found: valueHex };
  const [name, wanted, hash] =
    'sha256' in match
      ? (['sha256', match.sha256, 'SHA-256'] as const)
      : 'sha384' in match
        ? (['sha384', match.sha384, 'SHA-384'] as const)
        : (['sha512', match.sha512, 'SHA-512'] as const);
  const found = toHex(backend.hash(hash, fromHex(valueHex)));
  return { ok: found === wanted, wanted: `${name} ${wanted}`, found: `${name} ${found}` };
}

function checkBytes(
  id: string,
  label: string,
  valueHex: string | undefined,
  match: ByteMatch | undefined,
): Check | undefined {
  if (match === undefined) return undefined;
  if (valueHex === undefined) return { id, ok: false, detail: `evidence has no ${label}` };
  const result = matches(valueHex, match);
  return result.ok
    ? { id, ok: true, detail: `${label} matches` }
    : { id, ok: false, detail: `${label} is ${short(result.found)}, wanted ${short(result.wanted)}` };
}

function checkAge(evidence: VerifiedEvidence, policy: Policy): Check | undefined {
  if (policy.maxAgeSeconds === undefined) return undefined;
  const issuedAt = evidence.claims.issuedAt;
  if (issuedAt === undefined) {
    return {
      id: 'policy.maxAge',
      ok: false,
      detail: `${evidence.platform} evidence carries no timestamp: bind a nonce instead`,
    };
  }
  const ageMs = evidence.at.getTime() - issuedAt.getTime();
  if (ageMs < -MAX_CLOCK_SKEW_MS) {
    return {
      id: 'policy.maxAge',
      ok: false,
      detail: `evidence timestamp ${issuedAt.toISOString()} is in the future`,
    };
  }
  const ok = ageMs <= policy.maxAgeSeconds * 1000;
  return {
    id: 'policy.maxAge',
    ok,
    detail: `evidence is ${Math.max(0, Math.round(ageMs / 1000))} s old, at most ${policy.maxAgeSeconds} s allowed`,
  };
}

/** Runs the policy checks every platform shares. */
export function appraiseCommon(evidence: VerifiedEvidence, policy: Policy): Check[] {
  const checks: (Check | undefined)[] = [
    checkPlatform(evidence, policy),
    checkDebug(evidence, policy),
    ...checkMeasurements(evidence, policy),
    checkBytes(
      'policy.nonce',
      'nonce',
      evidence.claims.nonce,
      policy.nonce === undefined ? undefined : { equals: policy.nonce },
    ),
    checkAge(evidence, policy),
    checkBytes('policy.userData', 'user_data', evidence.claims.userData, policy.userData),
    checkBytes('policy.publicKey', 'public_key', evidence.claims.publicKey, policy.publicKey),
    checkBytes('policy.reportData', 'report_data', evidence.claims.reportData, policy.reportData),
  ];
  return checks.filter((check): check is Check => check !== undefined);
}

function verdictOf(checks: readonly Check[], warnings: readonly Issue[]): Verdict {
  if (checks.some((check) => !check.ok)) return 'contraindicated';
  return warnings.length > 0 ? 'warning' : 'affirming';
}

function earliest(a: Date, b: Date | undefined): Date {
  return b !== undefined && b < a ? b : a;
}

/** Combines verified evidence, common checks and the platform's own appraisal into a result. */
export function buildResult(
  evidence: VerifiedEvidence,
  policy: Policy,
  platformAppraisal?: PlatformAppraisal,
): AttestationResult {
  const policyChecks = [...appraiseCommon(evidence, policy), ...(platformAppraisal?.checks ?? [])];
  const checks = [...evidence.checks, ...policyChecks];
  const warnings = [...evidence.warnings, ...(platformAppraisal?.warnings ?? [])];
  const errors: Issue[] = policyChecks
    .filter((check) => !check.ok)
    .map((check) => ({ code: ErrorCode.POLICY_VIOLATION, message: `${check.id}: ${check.detail}` }));
  const maxAgeEnd =
    policy.maxAgeSeconds !== undefined && evidence.claims.issuedAt !== undefined
      ? new Date(evidence.claims.issuedAt.getTime() + policy.maxAgeSeconds * 1000)
      : undefined;
  const { claims } = evidence;
  return {
    platform: evidence.platform,
    verified: true,
    verdict: verdictOf(checks, warnings),
    verifiedAt: evidence.at.toISOString(),
    measurements: claims.measurements,
    reportData: claims.reportData,
    userData: claims.userData,
    publicKey: claims.publicKey,
    nonce: claims.nonce,
    debug: claims.debug,
    tcb: evidence.tcb,
    checks,
    errors,
    warnings,
    validUntil: earliest(evidence.validUntil, maxAgeEnd).toISOString(),
    claims: evidence.platformClaims as Record<string, unknown>,
  };
}
