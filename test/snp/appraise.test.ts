/**
 * The `snp` policy section: validation of the section, and appraisal of real verified evidence. The
 * go-sev-guest vector's check_test.go values give the good/bad pairs (Debug|SMT policy, platform_info 1,
 * minimum TCB 4901323769462652930 = bl 2, tee 0, snp 5, ucode 68).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { appraiseSnp, parseSnpPolicy, snpPlatform, verifySnpBytes } from '../../src/platforms/snp/index.js';
import type { Policy } from '../../src/policy/types.js';
import { loadVector, syncRejection } from './helpers.js';

function policyWith(snp: unknown): Policy {
  return { allowDebug: false, sections: { snp } };
}

async function evidenceOf(id: string) {
  const vector = loadVector(id);
  return verifySnpBytes(vector.report, { at: vector.at, collateral: { vcek: vector.vcek } });
}

function failed(checks: readonly { id: string; ok: boolean }[]): string[] {
  return checks.filter((check) => !check.ok).map((check) => check.id);
}

describe('snp policy section validation', () => {
  it('accepts every documented key and freezes the result', () => {
    const policy = parseSnpPolicy({
      minimumTcb: { bootloader: 2, snp: 5 },
      minimumLaunchTcb: { Milan: { microcode: 68 }, Genoa: { microcode: 84 } },
      products: ['Milan', 'genoa'],
      keyKinds: 'vcek',
      maximumVmpl: 0,
      hostData: '00'.repeat(32),
      familyId: '01'.padEnd(32, '0'),
      imageId: '02'.padEnd(32, '0'),
      idKeyDigests: ['ab'.repeat(48)],
      authorKeyDigests: ['cd'.repeat(48)],
      chipIds: ['EF'.repeat(64)],
      minimumGuestSvn: 1,
      minimumAbi: { major: 0, minor: 31 },
      minimumFirmware: { major: 1, minor: 51, build: 3 },
      policyBits: { migrateMa: false, smt: true },
      requireCrl: false,
    });
    expect(policy.products).toEqual(['Milan', 'Genoa']);
    expect(policy.keyKinds).toEqual(['vcek']);
    expect(policy.chipIds).toEqual(['ef'.repeat(64)]);
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it.each([
    [{ unknown: 1 }, 'snp/unknown'],
    [{ minimumTcb: { bootloader: 256 } }, 'snp/minimumTcb/bootloader'],
    [{ minimumTcb: { blSpl: 1 } }, 'snp/minimumTcb/blSpl'],
    [{ products: ['Rome'] }, 'snp/products[0]'],
    [{ keyKinds: [] }, 'snp/keyKinds'],
    [{ maximumVmpl: 4 }, 'snp/maximumVmpl'],
    [{ hostData: 'abcd' }, 'snp/hostData'],
    [{ hostData: 'zz'.repeat(32) }, 'snp/hostData'],
    [{ policyBits: { debug: 'no' } }, 'snp/policyBits/debug'],
    [{ policyBits: { raw: true } }, 'snp/policyBits/raw'],
    [{ requireCrl: 1 }, 'snp/requireCrl'],
    ['text', 'snp'],
  ])('rejects %j with POLICY_INVALID at %s', (value, path) => {
    const error = syncRejection(() => parseSnpPolicy(value));
    expect(error.code).toBe(ErrorCode.POLICY_INVALID);
    expect(error.path).toBe(path);
  });

  it('is reachable through the platform module', () => {
    expect(snpPlatform.parsePolicySection!('snp', { maximumVmpl: 0 })).toEqual({ maximumVmpl: 0 });
    expect(syncRejection(() => snpPlatform.parsePolicySection!('tcb', {})).code).toBe(
      ErrorCode.POLICY_INVALID,
    );
  });
});

describe('appraisal of real evidence', () => {
  it('an empty section checks nothing', async () => {
    const evidence = await evidenceOf('gosevguest-milan-v2');
    expect(appraiseSnp(evidence, { allowDebug: false, sections: {} }).checks).toEqual([]);
  });

  it('go-sev-guest: the good values pass', async () => {
    const evidence = await evidenceOf('gosevguest-milan-v2');
    const c = evidence.platformClaims as Record<string, unknown>;
    const result = appraiseSnp(
      evidence,
      policyWith({
        minimumTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
        minimumLaunchTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 68 },
        maximumVmpl: 0,
        hostData: c.hostData,
        familyId: c.familyId,
        imageId: c.imageId,
        chipIds: [c.chipId],
        products: ['Milan'],
        keyKinds: ['vcek'],
        minimumFirmware: { major: 1, minor: 49 },
        policyBits: { debug: true, smt: true },
      }),
    );
    expect(failed(result.checks)).toEqual([]);
    expect(result.checks.length).toBeGreaterThan(10);
  });

  it('go-sev-guest: each bad value fails its own check, with found and wanted values', async () => {
    const evidence = await evidenceOf('gosevguest-milan-v2');
    const result = appraiseSnp(
      evidence,
      policyWith({
        minimumTcb: { bootloader: 2, tee: 0, snp: 5, microcode: 69 },
        minimumFirmware: { major: 1, minor: 50 },
        policyBits: { debug: false },
        products: ['Genoa'],
        keyKinds: ['vlek'],
        hostData: 'ff'.repeat(32),
        chipIds: ['00'.repeat(64)],
      }),
    );
    expect(failed(result.checks).sort()).toEqual(
      [
        'policy.snp.minimumTcb.current',
        'policy.snp.minimumTcb.reported',
        'policy.snp.minimumTcb.committed',
        'policy.snp.firmware.current',
        'policy.snp.firmware.committed',
        'policy.snp.policy.debug',
        'policy.snp.product',
        'policy.snp.keyKind',
        'policy.snp.hostData',
        'policy.snp.chipId',
      ].sort(),
    );
    const tcb = result.checks.find((c) => c.id === 'policy.snp.minimumTcb.reported')!;
    expect(tcb.detail).toContain('ucode=68');
    expect(tcb.detail).toContain('microcode≥69');
  });

  it('VLEK on AWS: vmpl 1 fails a maximum of 0; a per-product TCB map without the product fails', async () => {
    const evidence = await evidenceOf('trustee-milan-vlek-v3');
    const result = appraiseSnp(
      evidence,
      policyWith({ maximumVmpl: 0, keyKinds: ['vlek'], minimumTcb: { Genoa: { snp: 1 } }, requireCrl: true }),
    );
    expect(failed(result.checks).sort()).toEqual(
      ['policy.snp.vmpl', 'policy.snp.minimumTcb', 'policy.snp.crl'].sort(),
    );
    const pass = appraiseSnp(evidence, policyWith({ maximumVmpl: 1, minimumTcb: { Milan: { snp: 24 } } }));
    expect(failed(pass.checks)).toEqual([]);
  });

  it('the current TCB is checked too (trustee-milan-v2: current ucode 206, reported 115)', async () => {
    const evidence = await evidenceOf('trustee-milan-v2');
    const result = appraiseSnp(evidence, policyWith({ minimumTcb: { microcode: 200 } }));
    expect(failed(result.checks).sort()).toEqual(
      ['policy.snp.minimumTcb.reported', 'policy.snp.minimumTcb.committed'].sort(),
    );
  });

  it('guest SVN and ABI minimums', async () => {
    const evidence = await evidenceOf('trustee-azure-genoa-v3');
    const ok = appraiseSnp(
      evidence,
      policyWith({ minimumGuestSvn: 65547, minimumAbi: { major: 0, minor: 31 } }),
    );
    expect(failed(ok.checks)).toEqual([]);
    const bad = appraiseSnp(
      evidence,
      policyWith({ minimumGuestSvn: 65548, minimumAbi: { major: 1, minor: 0 } }),
    );
    expect(failed(bad.checks).sort()).toEqual(['policy.snp.abi', 'policy.snp.guestSvn']);
  });
});
