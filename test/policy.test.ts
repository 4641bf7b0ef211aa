import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/errors.js';
import { parsePolicy, parsePolicyText } from '../src/policy/parse.js';
import type { Policy } from '../src/policy/types.js';
import { loadPolicy, verify } from '../src/verify.js';
import { genuineNitroVectors } from './helpers/vectors.js';

const vector = genuineNitroVectors().find((v) => v.id === 'evervault-beta-cert-debug-2023-01-18')!;
const marlin = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
const atOf = (v: typeof vector) => new Date(v.expected.verification_time.unix_ms);
const pcrs = marlin.expected.parsed.pcrs;

async function appraise(policy: unknown, v = marlin, at = atOf(v)) {
  return verify(v.bytes, { at, policy: loadPolicy(policy) });
}

const failed = (result: { checks: readonly { id: string; ok: boolean }[] }) =>
  result.checks.filter((c) => !c.ok).map((c) => c.id);

describe('policy files are validated', () => {
  const bad: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ measurment: {} }, /unknown policy key "measurment"/],
    [{ measurements: { PCR0: 'aa' } }, /lowercase/],
    [{ measurements: { pcr0: 'xyz' } }, /hex/],
    [{ measurements: { pcr0: [] } }, /empty/],
    [{ allowDebug: 'yes' }, /true or false/],
    [{ maxAgeSeconds: -1 }, /positive/],
    [{ userData: { sha256: 'aa' } }, /32 bytes/],
    [{ userData: { md5: 'aa' } }, /unknown match kind/],
    [{ platforms: ['nitro', 'tpm'] }, /unknown platform "tpm"/],
    [{ platforms: [] }, /non-empty/],
  ];
  for (const [json, message] of bad) {
    it(`rejects ${JSON.stringify(json)}`, () => {
      expect(() => parsePolicy(json)).toThrow(
        expect.objectContaining({ code: ErrorCode.POLICY_INVALID, message: expect.stringMatching(message) }),
      );
    });
  }
  it('rejects invalid JSON text', () => {
    expect(() => parsePolicyText('{')).toThrow(expect.objectContaining({ code: ErrorCode.POLICY_INVALID }));
  });
  it('normalises hex to lowercase and single values to lists', () => {
    const policy = parsePolicy({ measurements: { pcr0: 'AB' }, nonce: '0xCD' });
    expect(policy.measurements).toEqual({ pcr0: ['ab'] });
    expect(policy.nonce).toBe('cd');
    expect(policy.allowDebug).toBe(false);
  });
});

describe('appraisal', () => {
  it('accepts matching measurements (any-of) and reports each', async () => {
    const result = await appraise({
      measurements: { pcr0: ['00'.repeat(48), pcrs['0']], pcr1: pcrs['1'], pcr2: pcrs['2'] },
    });
    expect(result.verdict).toBe('affirming');
    expect(result.checks.filter((c) => c.id.startsWith('policy.measurement'))).toHaveLength(3);
  });

  it('rejects a wrong measurement, naming found and wanted values, and runs every check', async () => {
    const result = await appraise({ measurements: { pcr0: 'aa'.repeat(48), pcr1: pcrs['1'] }, nonce: '00' });
    expect(result.verified).toBe(true);
    expect(result.verdict).toBe('contraindicated');
    expect(failed(result)).toEqual(['policy.measurement.pcr0', 'policy.nonce']);
    const pcr0 = result.checks.find((c) => c.id === 'policy.measurement.pcr0')!;
    expect(pcr0.detail).toContain(pcrs['0']);
    expect(pcr0.detail).toContain('aaaaaaaa');
    expect(result.errors.map((e) => e.code)).toEqual([
      ErrorCode.POLICY_VIOLATION,
      ErrorCode.POLICY_VIOLATION,
    ]);
  });

  it('rejects a register the evidence does not have', async () => {
    const result = await appraise({ measurements: { mrenclave: 'aa'.repeat(32) } });
    expect(failed(result)).toEqual(['policy.measurement.mrenclave']);
  });

  it('checks the nonce', async () => {
    const nonce = vector.expected.parsed.nonce!;
    expect((await appraise({ nonce, allowDebug: true }, vector)).verdict).toBe('affirming');
    expect(failed(await appraise({ nonce: `${nonce.slice(0, -2)}00`, allowDebug: true }, vector))).toEqual([
      'policy.nonce',
    ]);
    expect(failed(await appraise({ nonce: '00' }))).toEqual(['policy.nonce']);
  });

  it('checks user_data and public_key exactly or by hash', async () => {
    const userData = vector.expected.parsed.user_data!;
    const sha256 = (await import('node:crypto'))
      .createHash('sha256')
      .update(Buffer.from(userData, 'hex'))
      .digest('hex');
    const sha384 = (await import('node:crypto'))
      .createHash('sha384')
      .update(Buffer.from(userData, 'hex'))
      .digest('hex');
    for (const userDataPolicy of [userData, { equals: userData }, { sha256 }, { sha384 }]) {
      expect((await appraise({ allowDebug: true, userData: userDataPolicy }, vector)).verdict).toBe(
        'affirming',
      );
    }
    expect(
      failed(await appraise({ allowDebug: true, userData: { sha256: '00'.repeat(32) } }, vector)),
    ).toEqual(['policy.userData']);
    expect(failed(await appraise({ allowDebug: true, publicKey: 'aa' }, vector))).toEqual([
      'policy.publicKey',
    ]);
    const marlinKey = marlin.expected.parsed.public_key!;
    expect((await appraise({ publicKey: marlinKey })).verdict).toBe('affirming');
  });

  it('checks freshness against the document timestamp', async () => {
    const issued = marlin.expected.parsed.timestamp_ms;
    expect((await appraise({ maxAgeSeconds: 60 }, marlin, new Date(issued + 30_000))).verdict).toBe(
      'affirming',
    );
    const stale = await appraise({ maxAgeSeconds: 60 }, marlin, new Date(issued + 120_000));
    expect(failed(stale)).toEqual(['policy.maxAge']);
    expect(stale.checks.find((c) => c.id === 'policy.maxAge')!.detail).toBe(
      'evidence is 120 s old, at most 60 s allowed',
    );
    const future = await appraise({ maxAgeSeconds: 60 }, marlin, new Date(issued - 120_000));
    expect(failed(future)).toContain('policy.maxAge');
  });

  it('caps validUntil by maxAge', async () => {
    const result = await appraise({ maxAgeSeconds: 60 });
    expect(result.validUntil).toBe(new Date(marlin.expected.parsed.timestamp_ms + 60_000).toISOString());
  });

  it('debug is contraindicated by default and allowed only explicitly', async () => {
    expect(failed(await appraise({}, vector))).toEqual(['policy.debug']);
    expect((await appraise({ allowDebug: true }, vector)).verdict).toBe('affirming');
  });

  it('restricts platforms; the simulator is never accepted by default', async () => {
    expect(failed(await appraise({ platforms: ['sgx'] }))).toEqual(['policy.platform']);
    expect((await appraise({ platforms: ['nitro'] })).verdict).toBe('affirming');
  });

  it('a policy object built in code is appraised the same way', async () => {
    const policy: Policy = { allowDebug: false, measurements: { pcr0: [pcrs['0']!] }, sections: {} };
    const result = await verify(marlin.bytes, { at: atOf(marlin), policy });
    expect(result.verdict).toBe('affirming');
  });
});
