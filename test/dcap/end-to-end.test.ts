/** DCAP through the top-level `verify()`, policy files with a `tcb` section, and `veritee verify --collateral`. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify-command.js';
import { ErrorCode } from '../../src/errors.js';
import { loadPolicy, verify } from '../../src/verify.js';
import { loadVector, pcsFiles, VECTORS } from './helpers.js';

const TDX = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06');
const SGX = loadVector('sgx/dcapqvl-sgx-v3-00A067110000-2025-06');
const MOBILECOIN = loadVector('sgx/mobilecoin-sgx-v3-00906ED50000-2023-07');

describe('verify() with DCAP quotes', () => {
  it('names the platform from the quote header even when verification fails', async () => {
    const tdx = await verify(TDX.quote, { at: TDX.at });
    expect(tdx.verified).toBe(false);
    expect(tdx.platform).toBe('tdx');
    const sgx = await verify(SGX.quote, { at: SGX.at });
    expect(sgx.verified).toBe(false);
    expect(sgx.platform).toBe('sgx');
  });

  it('detects a TDX quote and returns an AttestationResult with the tcb summary', async () => {
    const result = await verify(TDX.quote, { at: TDX.at, collateral: TDX.collateralJson });
    expect(result.platform).toBe('tdx');
    expect(result.verified).toBe(true);
    expect(result.tcb).toEqual({
      status: 'UpToDate',
      advisoryIds: [],
      tcbDate: '2024-03-13T00:00:00Z',
      evaluationDataNumber: 17,
    });
    expect(result.measurements.mrtd).toBe(TDX.measurements.mrtd);
    // The 70 zero bytes of padding after the signature data are reported.
    expect(result.verdict).toBe('warning');
    expect(result.warnings.map((w) => w.code)).toContain(ErrorCode.PARSE_TRAILING_BYTES);
  });

  it('SGX ConfigurationAndSWHardeningNeeded: contraindicated by default, warning when the policy lists it', async () => {
    const strict = await verify(SGX.quote, { at: SGX.at, collateral: SGX.collateralJson });
    expect(strict.verified).toBe(true);
    expect(strict.verdict).toBe('contraindicated');
    const policy = loadPolicy({
      measurements: { mrenclave: SGX.measurements.mrenclave },
      reportData: SGX.measurements.report_data,
      tcb: {
        allowedStatuses: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'],
        allowedAdvisories: ['INTEL-SA-00289', 'INTEL-SA-00615'],
      },
    });
    const lenient = await verify(SGX.quote, { at: SGX.at, collateral: SGX.collateralJson, policy });
    expect(lenient.verdict).toBe('warning');
    expect(lenient.errors).toEqual([]);
  });

  it('measurement allow-lists and report-data binding apply to DCAP claims', async () => {
    const policy = loadPolicy({ measurements: { mrtd: ['00'.repeat(48)] } });
    const result = await verify(TDX.quote, { at: TDX.at, collateral: TDX.collateralJson, policy });
    expect(result.verdict).toBe('contraindicated');
    expect(result.errors[0]?.message).toContain('policy.measurement.mrtd');
  });

  it('a policy with an invalid tcb section is refused', () => {
    expect(() => loadPolicy({ tcb: { allowedStatuses: ['Revoked'] } })).toThrow(/Revoked/);
  });

  it('collateral problems come back as a failed result with a stable code', async () => {
    const missing = await verify(TDX.quote, { at: TDX.at });
    expect(missing.verified).toBe(false);
    expect(missing.errors[0]?.code).toBe(ErrorCode.COLLATERAL_MISSING);
    const stale = await verify(MOBILECOIN.quote, {
      at: MOBILECOIN.at,
      collateral: MOBILECOIN.collateralJson,
    });
    expect(stale.errors[0]?.code).toBe(ErrorCode.CRL_EXPIRED);
    const graced = await verify(MOBILECOIN.quote, {
      at: MOBILECOIN.at,
      collateral: MOBILECOIN.collateralJson,
      policy: loadPolicy({
        tcb: { collateralGraceSeconds: 60 * 86400, allowedStatuses: ['SWHardeningNeeded'] },
      }),
    });
    expect(graced.verified).toBe(true);
    expect(graced.verdict).toBe('warning');
    expect(
      graced.warnings.some((w) => w.code === ErrorCode.CRL_EXPIRED && w.message.includes('PCK CRL')),
    ).toBe(true);
  });

  it('PCS wire-format files work through verify() too', async () => {
    const result = await verify(SGX.quote, { at: SGX.at, collateral: pcsFiles(SGX) });
    expect(result.tcb?.status).toBe('ConfigurationAndSWHardeningNeeded');
  });
});

describe('veritee verify --collateral', () => {
  const quotePath = (id: string) => join(VECTORS, id, 'quote.bin');
  it('reads a collateral folder (PCS files)', async () => {
    const output = await runVerify(quotePath(TDX.id), {
      at: TDX.at.toISOString(),
      collateral: join(VECTORS, TDX.id),
      json: true,
    });
    const result = JSON.parse(output.stdout);
    expect(result.tcb.status).toBe('UpToDate');
    expect(output.exitCode).toBe(0);
  });

  it('reads a dcap-qvl collateral JSON file and exits 1 when the policy rejects', async () => {
    const output = await runVerify(quotePath(SGX.id), {
      at: SGX.at.toISOString(),
      collateral: join(VECTORS, SGX.id, 'collateral.json'),
    });
    expect(output.stdout).toContain('ConfigurationAndSWHardeningNeeded');
    expect(output.exitCode).toBe(1);
  });

  it('a missing collateral path is an argument error', async () => {
    await expect(
      runVerify(quotePath(SGX.id), { at: SGX.at.toISOString(), collateral: join(VECTORS, 'nope') }),
    ).rejects.toThrow(/cannot read collateral/);
  });
});
