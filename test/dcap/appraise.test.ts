/** The `tcb` and `tdx` policy sections: parsing and appraisal of verified evidence. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import {
  appraiseDcap,
  type DcapClaims,
  dcapPlatform,
  parseTcbPolicy,
  parseTdxPolicy,
  verifyDcapQuote,
} from '../../src/platforms/dcap/index.js';
import type { Policy } from '../../src/policy/types.js';
import { loadPolicy } from '../../src/verify.js';
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

describe('tdx policy section', () => {
  const V15 = loadVector('tdx/automata-alibaba-tdx-v5-90C06F000000-2025-06');
  const V15_SERVICE_TD =
    '383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd848fe8d47629e08b3f6cbd4a00dd47a5a033d';
  const ZERO = '0'.repeat(96);
  const lenient = { allowedStatuses: ['UpToDate', 'OutOfDate', 'SWHardeningNeeded'] };

  function tdxPolicy(tdx: unknown): Policy {
    return loadPolicy({ tcb: lenient, tdx });
  }

  function checkOf(result: ReturnType<typeof appraiseDcap>, id: string) {
    const found = result.checks.filter((c) => c.id === id);
    expect(found, id).toHaveLength(1);
    return found[0]!;
  }

  it('refuses unknown keys, non-booleans and malformed MRSERVICETD values', () => {
    for (const bad of [
      { requireSeptVEDisable: true },
      { requireSeptVeDisable: 'yes' },
      { mrServiceTd: '00' },
      { mrServiceTd: `${ZERO}00` },
      { mrServiceTd: 'zz'.repeat(48) },
      { mrServiceTd: 0 },
      [],
      null,
    ]) {
      let error: unknown;
      try {
        loadPolicy({ tdx: bad });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(VeriteeError);
      expect((error as VeriteeError).code).toBe(ErrorCode.POLICY_INVALID);
      expect((error as VeriteeError).message.length).toBeGreaterThan(0);
    }
    expect(parseTdxPolicy({ mrServiceTd: V15_SERVICE_TD.toUpperCase() }).mrServiceTd).toBe(V15_SERVICE_TD);
  });

  it('the real TDX vectors set SEPT_VE_DISABLE (TDATTRIBUTES bit 28) and pass the requirement', async () => {
    for (const id of [
      'tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06',
      'tdx/automata-tdx-v4-00806F050000-2025-06',
      'tdx/dstack-near-mpc-B0C06F000000-2026-08',
      'tdx/automata-alibaba-tdx-v5-90C06F000000-2025-06',
    ]) {
      const evidence = await evidenceOf(loadVector(id));
      const td = (evidence.platformClaims as DcapClaims).tdx!;
      // Little-endian 64-bit field: byte 3 = 0x10 is bit 28.
      expect(td.tdAttributes, id).toBe('0000001000000000');
      expect(td.tdAttributeFlags.septVeDisable, id).toBe(true);
      const check = checkOf(
        appraiseDcap(evidence, tdxPolicy({ requireSeptVeDisable: true })),
        'policy.tdx.septVeDisable',
      );
      expect(check.ok, id).toBe(true);
    }
  });

  it('a TD without SEPT_VE_DISABLE fails the requirement, and passes when it is not required', async () => {
    // No real vector has the bit clear, and clearing it in a quote breaks the signature: the appraisal is
    // a pure function of the verified claims, so it is given the claims of a real quote with the bit clear.
    const evidence = await evidenceOf(UP_TO_DATE);
    const claims = evidence.platformClaims as DcapClaims;
    const cleared = {
      ...evidence,
      platformClaims: {
        ...claims,
        tdx: {
          ...claims.tdx!,
          tdAttributes: '0000000000000000',
          tdAttributeFlags: { ...claims.tdx!.tdAttributeFlags, septVeDisable: false },
        },
      },
    };
    const check = checkOf(
      appraiseDcap(cleared, tdxPolicy({ requireSeptVeDisable: true })),
      'policy.tdx.septVeDisable',
    );
    expect(check.ok).toBe(false);
    expect(check.detail).toContain('SEPT_VE_DISABLE is not set');
    const relaxed = appraiseDcap(cleared, tdxPolicy({ requireSeptVeDisable: false }));
    expect(relaxed.checks.some((c) => c.id.startsWith('policy.tdx'))).toBe(false);
  });

  it('MRSERVICETD must equal the policy value on a TDX 1.5 report', async () => {
    const evidence = await evidenceOf(V15);
    const td = (evidence.platformClaims as DcapClaims).tdx!;
    expect(td.tdReportVersion).toBe('1.5');
    expect(td.mrservicetd).toBe(V15_SERVICE_TD);
    expect(
      checkOf(appraiseDcap(evidence, tdxPolicy({ mrServiceTd: V15_SERVICE_TD })), 'policy.tdx.mrServiceTd')
        .ok,
    ).toBe(true);
    const zero = checkOf(appraiseDcap(evidence, tdxPolicy({ mrServiceTd: ZERO })), 'policy.tdx.mrServiceTd');
    expect(zero.ok).toBe(false);
    expect(zero.detail).toContain(`MRSERVICETD is ${V15_SERVICE_TD}, policy requires ${ZERO}`);
  });

  it('a policy requiring MRSERVICETD fails closed on a TDX 1.0 report', async () => {
    const evidence = await evidenceOf(UP_TO_DATE);
    expect((evidence.platformClaims as DcapClaims).tdx!.tdReportVersion).toBe('1.0');
    for (const wanted of [ZERO, V15_SERVICE_TD]) {
      const check = checkOf(
        appraiseDcap(evidence, tdxPolicy({ mrServiceTd: wanted })),
        'policy.tdx.mrServiceTd',
      );
      expect(check.ok).toBe(false);
      expect(check.detail).toContain('has no MRSERVICETD (only TDX 1.5 reports do)');
    }
  });

  it('the tdx section does not apply to SGX evidence', async () => {
    const evidence = await evidenceOf(SGX);
    const result = appraiseDcap(evidence, tdxPolicy({ requireSeptVeDisable: true, mrServiceTd: ZERO }));
    expect(result.checks.some((c) => c.id.startsWith('policy.tdx'))).toBe(false);
  });
});
