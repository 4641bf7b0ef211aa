/**
 * SEV-SNP through the top-level `verify()` (detection, common appraisal, the `snp` policy section) and
 * `veritee verify report.bin --vcek … --chain … --crl …`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify-command.js';
import { ErrorCode } from '../../src/errors.js';
import { loadPolicy, verify } from '../../src/verify.js';
import { loadVector, VECTOR_DIR } from './helpers.js';

const milan = loadVector('trustee-milan-v2');
const gosev = loadVector('gosevguest-milan-v2');

describe('top-level verify()', () => {
  it('detects a SEV-SNP report and verifies it with the VCEK as collateral', async () => {
    const result = await verify(milan.report, { at: milan.at, collateral: { vcek: milan.vcek } });
    expect(result.platform).toBe('sev-snp');
    expect(result.verified).toBe(true);
    expect(result.measurements).toEqual({ measurement: milan.expected.parsed.measurement });
    expect(result.warnings.map((w) => w.code)).toContain(ErrorCode.COLLATERAL_MISSING);
  });

  it('a debug guest is contraindicated by default (go-sev-guest vector: policy Debug|SMT)', async () => {
    const result = await verify(gosev.report, { at: gosev.at, collateral: { vcek: gosev.vcek } });
    expect(result.verified).toBe(true);
    expect(result.debug).toBe(true);
    expect(result.verdict).toBe('contraindicated');
  });

  it('applies the snp policy section and the measurement allow-list', async () => {
    const policy = loadPolicy({
      measurements: { measurement: [milan.expected.parsed.measurement] },
      snp: {
        minimumTcb: { Milan: { bootloader: 3, snp: 8, microcode: 115 } },
        maximumVmpl: 0,
        keyKinds: ['vcek'],
      },
    });
    const ok = await verify(milan.report, { at: milan.at, policy, collateral: { vcek: milan.vcek } });
    expect(ok.verdict).not.toBe('contraindicated');
    expect(ok.checks.filter((c) => c.id.startsWith('policy.snp.')).every((c) => c.ok)).toBe(true);
    const strict = loadPolicy({ snp: { minimumTcb: { microcode: 200 } } });
    const bad = await verify(milan.report, {
      at: milan.at,
      policy: strict,
      collateral: { vcek: milan.vcek },
    });
    expect(bad.verdict).toBe('contraindicated');
  });

  it('rejects an invalid snp policy section when the policy is loaded', () => {
    expect(() => loadPolicy({ snp: { maximumVmpl: 9 } })).toThrow(/snp\/maximumVmpl/);
  });

  it('without a VCEK, the result says COLLATERAL_MISSING', async () => {
    const result = await verify(milan.report, { at: milan.at });
    expect(result.verified).toBe(false);
    expect(result.errors[0]?.code).toBe(ErrorCode.COLLATERAL_MISSING);
  });
});

describe('veritee verify --vcek --chain --crl', () => {
  const dir = `${VECTOR_DIR}trustee-milan-v2/`;

  it('verifies a report file with its VCEK and chain', async () => {
    const output = await runVerify(`${dir}report.bin`, {
      vcek: `${dir}vcek.der`,
      chain: `${dir}ask_ark.pem`,
      at: String(milan.expected.verification_time.unix),
      json: true,
    });
    const result = JSON.parse(output.stdout);
    expect(result.platform).toBe('sev-snp');
    expect(result.verified).toBe(true);
    expect(output.exitCode).toBe(0);
  });

  it('exits 1 when the VCEK belongs to another chip, and passes a CRL file through', async () => {
    const other = `${VECTOR_DIR}trustee-azure-milan-v2/vcek.pem`;
    const output = await runVerify(`${dir}report.bin`, { vcek: other, at: '1683148939', json: true });
    expect(JSON.parse(output.stdout).errors[0].code).toBe(ErrorCode.COLLATERAL_MISMATCH);
    expect(output.exitCode).toBe(1);
    const junk = join(mkdtempSync(join(tmpdir(), 'veritee-snp-')), 'crl.der');
    writeFileSync(junk, new Uint8Array([0x30, 0x00]));
    const crl = await runVerify(`${dir}report.bin`, {
      vcek: `${dir}vcek.der`,
      crl: junk,
      at: String(milan.expected.verification_time.unix),
      json: true,
    });
    expect(JSON.parse(crl.stdout).errors[0].code).toBe(ErrorCode.CRL_INVALID);
  });
});
