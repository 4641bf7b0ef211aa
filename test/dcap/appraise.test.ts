/** The `tcb` policy section: parsing and appraisal of verified evidence. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import {
  appraiseDcap,
  dcapPlatform,
  parseTcbPolicy,
  verifyDcapQuote,
} from '../../src/platforms/dcap/index.js';
import type { Policy } from '../../src/policy/types.js';
import { loadVector } from './helpers.js';

function policy(tcb?: unknown): Policy {
  return { allowDebug: false, sections: tcb === undefined ? {} : { tcb: parseTcbPolicy(tcb) } };
}

const UP_TO_DATE = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06');
const OUT_OF_DATE = loadVector('tdx/automata-tdx-v4-00806F050000-2025-06');
const SGX = loadVector('sgx/dcapqvl-sgx-v3-00A067110000-2025-06');

async function evidenceOf(vector: ReturnType<typeof loadVector>) {
  return verifyDcapQuote(vector.quote, { at: vector.at, collateral: vector.collateralJson });
}

describe('tcb policy parsing', () => {
  it('defaults to UpToDate only', () => {
    expect(parseTcbPolicy({}).allowedStatuses).toEqual(['UpToDate']);
  });

  it('refuses unknown keys, unknown statuses, Revoked and bad numbers', () => {
    for (const bad of [
      { allowedStatus: ['UpToDate'] },
      { allowedStatuses: ['Fine'] },
      { allowedStatuses: ['Revoked'] },
      { allowedStatuses: [] },
      { allowedAdvisories: ['SA-1'] },
      { minEvaluationDataNumber: -1 },
      { collateralGraceSeconds: 1.5 },
      { outOfDateGraceSeconds: '1d' },
      [],
      null,
    ]) {
      let error: unknown;
      try {
        dcapPlatform.parsePolicySection!('tcb', bad);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(VeriteeError);
      expect((error as VeriteeError).code).toBe(ErrorCode.POLICY_INVALID);
    }
  });
});

describe('tcb appraisal', () => {
  it('UpToDate passes the default policy without warnings', async () => {
    const result = appraiseDcap(await evidenceOf(UP_TO_DATE), policy());
    expect(result.checks.every((c) => c.ok)).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('ConfigurationAndSWHardeningNeeded fails the default policy, passes with a warning when listed', async () => {
    const evidence = await evidenceOf(SGX);
    const strict = appraiseDcap(evidence, policy());
    expect(strict.checks.find((c) => c.id === 'policy.tcb.status')?.ok).toBe(false);
    const lenient = appraiseDcap(
      evidence,
      policy({ allowedStatuses: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'] }),
    );
    expect(lenient.checks.every((c) => c.ok)).toBe(true);
    expect(lenient.warnings).toHaveLength(1);
    expect(lenient.warnings[0]!.message).toContain('ConfigurationAndSWHardeningNeeded');
  });

  it('advisory allow-list: every advisory must be listed', async () => {
    const evidence = await evidenceOf(SGX);
    const allowed = { allowedStatuses: ['ConfigurationAndSWHardeningNeeded'] };
    const partial = appraiseDcap(evidence, policy({ ...allowed, allowedAdvisories: ['INTEL-SA-00615'] }));
    const check = partial.checks.find((c) => c.id === 'policy.tcb.advisories');
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain('INTEL-SA-00289');
    const full = appraiseDcap(
      evidence,
      policy({ ...allowed, allowedAdvisories: ['INTEL-SA-00289', 'INTEL-SA-00615'] }),
    );
    expect(full.checks.every((c) => c.ok)).toBe(true);
  });

  it('minimum tcbEvaluationDataNumber', async () => {
    const evidence = await evidenceOf(UP_TO_DATE);
    expect(appraiseDcap(evidence, policy({ minEvaluationDataNumber: 17 })).checks.every((c) => c.ok)).toBe(
      true,
    );
    const check = appraiseDcap(evidence, policy({ minEvaluationDataNumber: 18 })).checks.find(
      (c) => c.id === 'policy.tcb.evaluationDataNumber',
    );
    expect(check?.ok).toBe(false);
  });

  it('OutOfDate grace period runs from when the platform fell behind', async () => {
    const evidence = await evidenceOf(OUT_OF_DATE);
    expect(evidence.tcb?.status).toBe('OutOfDate');
    const claims = evidence.platformClaims as { tcb: { outOfDateSince?: string } };
    // Level 2023-08-09 is OutOfDate; the next level up (the recovery it misses) is dated 2024-03-13.
    expect(claims.tcb.outOfDateSince).toBe('2024-03-13T00:00:00Z');
    const year = 365 * 86400;
    expect(appraiseDcap(evidence, policy()).checks[0]!.ok).toBe(false);
    expect(appraiseDcap(evidence, policy({ outOfDateGraceSeconds: year })).checks[0]!.ok).toBe(false);
    const graced = appraiseDcap(evidence, policy({ outOfDateGraceSeconds: 2 * year }));
    expect(graced.checks[0]!.ok).toBe(true);
    expect(graced.warnings[0]!.message).toContain('grace period');
  });

  it('evidence from another platform has no TCB evaluation', () => {
    const result = appraiseDcap(
      {
        platform: 'nitro',
        at: new Date(),
        claims: { measurements: {}, debug: false },
        platformClaims: {},
        validUntil: new Date(),
        checks: [],
        warnings: [],
      },
      policy(),
    );
    expect(result.checks[0]!.ok).toBe(false);
  });
});
