import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import { type DcapClaims, dcapPlatform, verifyDcapQuote } from '../../src/platforms/dcap/index.js';
import type { Policy } from '../../src/policy/types.js';
import { loadVector, pcsFiles, VALID, vectorIds } from './helpers.js';

const vectors = vectorIds().map(loadVector);
const valid = vectors.filter(VALID);

async function rejection(promise: Promise<unknown>): Promise<VeriteeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VeriteeError);
    return error as VeriteeError;
  }
  throw new Error('expected a rejection');
}

function claimsOf(evidence: { platformClaims: unknown }): DcapClaims {
  return evidence.platformClaims as DcapClaims;
}

function graced(seconds: number): Policy {
  return { allowDebug: false, sections: { tcb: { collateralGraceSeconds: seconds } } };
}

describe('DCAP vectors at their verification time', () => {
  it('covers every SGX and TDX vector', () => {
    expect(vectors.length).toBe(14);
    expect(valid.length).toBe(10);
  });

  for (const vector of valid) {
    it(`${vector.id}: ${vector.expected.tcb_status} ${vector.expected.advisory_ids?.join(', ') ?? ''}`, async () => {
      const evidence = await verifyDcapQuote(vector.quote, {
        at: vector.at,
        collateral: vector.collateralJson,
      });
      expect(evidence.tcb?.status).toBe(vector.expected.tcb_status);
      expect([...(evidence.tcb?.advisoryIds ?? [])].sort()).toEqual(
        [...(vector.expected.advisory_ids ?? [])].sort(),
      );
      const claims = claimsOf(evidence);
      expect(evidence.platform).toBe(vector.id.startsWith('sgx/') ? 'sgx' : 'tdx');
      expect(claims.teeType).toBe(evidence.platform);
      // Measurements and report data as the source corpus lists them.
      const m = vector.measurements;
      const names: Record<string, string> = {
        mrenclave: 'mrenclave',
        mrsigner: 'mrsigner',
        mrtd: 'mrtd',
        rtmr0: 'rtmr0',
        rtmr1: 'rtmr1',
        rtmr2: 'rtmr2',
        rtmr3: 'rtmr3',
        mrseam: 'mrseam',
        mrconfigid: 'mrconfigid',
      };
      for (const [source, ours] of Object.entries(names)) {
        if (m[source] !== undefined) expect(evidence.claims.measurements[ours], source).toBe(m[source]);
      }
      if (m.report_data !== undefined) expect(evidence.claims.reportData).toBe(m.report_data);
      if (m.tee_tcb_svn !== undefined) expect(claims.tdx?.teeTcbSvn).toBe(m.tee_tcb_svn);
      if (m.xfam !== undefined) expect(claims.tdx?.xfam).toBe(m.xfam);
      if (m.td_attributes !== undefined) expect(claims.tdx?.tdAttributes).toBe(m.td_attributes);
      // SECS.ATTRIBUTES bit 1 is DEBUG (the automata SGX sample is a debug enclave); TDATTRIBUTES bit 0.
      const debug =
        m.attributes !== undefined
          ? (Number.parseInt(m.attributes.slice(0, 2), 16) & 2) !== 0
          : (Number.parseInt(m.td_attributes!.slice(0, 2), 16) & 1) !== 0;
      expect(evidence.claims.debug).toBe(debug);
      expect(evidence.validUntil.getTime()).toBeGreaterThanOrEqual(vector.at.getTime());
      expect(evidence.tcb?.evaluationDataNumber).toBe(claims.tcb.evaluationDataNumber);
    });
  }

  for (const vector of valid.filter((v) => v.hasPcsFiles)) {
    it(`${vector.id}: the PCS wire-format folder gives the same result`, async () => {
      const fromJson = await verifyDcapQuote(vector.quote, {
        at: vector.at,
        collateral: vector.collateralJson,
      });
      const fromFiles = await verifyDcapQuote(vector.quote, { at: vector.at, collateral: pcsFiles(vector) });
      expect(fromFiles.tcb).toEqual(fromJson.tcb);
      expect(fromFiles.platformClaims).toEqual(fromJson.platformClaims);
    });
  }

  it('near-mpc (dstack TDX): UpToDate at 2026-08-13T12:00Z with the PPID the source asserts', async () => {
    const vector = loadVector('tdx/dstack-near-mpc-B0C06F000000-2026-08');
    const evidence = await verifyDcapQuote(vector.quote, {
      at: vector.at,
      collateral: vector.collateralJson,
    });
    const claims = claimsOf(evidence);
    expect(evidence.tcb?.status).toBe('UpToDate');
    expect(claims.tcb.platformStatus).toBe('UpToDate');
    expect(claims.tcb.qeStatus).toBe('UpToDate');
    expect(claims.ppid).toBe('d208dfb1002346ae1bb4ef2a3c055292');
    expect(claims.fmspc).toBe('b0c06f000000');
    expect(claims.tdx?.tdAttributeFlags).toEqual({
      debug: false,
      septVeDisable: true,
      pks: false,
      kl: false,
      perfmon: false,
    });
    expect(evidence.warnings.map((w) => w.code)).toEqual([ErrorCode.PARSE_TRAILING_BYTES]);
  });

  it('the TDX module rule: cos113 (TEE_TCB_SVN 04 01 07 …) is UpToDate, graded by TDX_01', async () => {
    const vector = loadVector('tdx/crosssrc-gotdxguest-cos113-tdx-v4-00806F050000-2025-06');
    const evidence = await verifyDcapQuote(vector.quote, {
      at: vector.at,
      collateral: vector.collateralJson,
    });
    expect(claimsOf(evidence).tcb.tdxModule).toEqual({ id: 'TDX_01', status: 'UpToDate' });
    expect(evidence.tcb?.status).toBe('UpToDate');
  });

  it('TDX 1.5 (quote v5, body type 3) carries MRSERVICETD and TEE_TCB_SVN_2', async () => {
    const vector = loadVector('tdx/automata-alibaba-tdx-v5-90C06F000000-2025-06');
    const evidence = await verifyDcapQuote(vector.quote, {
      at: vector.at,
      collateral: vector.collateralJson,
    });
    const claims = claimsOf(evidence);
    expect(claims.quoteVersion).toBe(5);
    expect(claims.body).toBe('td15');
    expect(claims.tdx?.teeTcbSvn2).toBe('05010200000000000000000000000000');
    expect(evidence.claims.measurements.mrservicetd).toMatch(/^[0-9a-f]{96}$/);
  });
});

describe('negative vectors', () => {
  it('rejects SGX collateral for a TDX quote (MISMATCHED-COLLATERAL)', async () => {
    const vector = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2024-09-MISMATCHED-COLLATERAL');
    const error = await rejection(
      verifyDcapQuote(vector.quote, { at: vector.at, collateral: vector.collateralJson }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
    expect(error.message).toContain('TCB Info id is "SGX"');
  });

  for (const id of [
    'tdx/dcapqvl-tdx-v5-90C06F000000-2026-02-no-tcb-match',
    'tdx/gotdxguest-tdx-v4-50806F000000-2023-06-no-tcb-match',
  ]) {
    it(`${id}: no matching TCB level is an error, not a status`, async () => {
      const vector = loadVector(id);
      const error = await rejection(
        verifyDcapQuote(vector.quote, { at: vector.at, collateral: vector.collateralJson }),
      );
      expect(error.code).toBe(ErrorCode.TCB_NO_MATCH);
      expect(error.path).toBe('collateral/tcbInfo/tcbLevels');
    });
  }

  it('mobilecoin: rejected for its stale PCK CRL under the default policy', async () => {
    const vector = loadVector('sgx/mobilecoin-sgx-v3-00906ED50000-2023-07');
    const error = await rejection(
      verifyDcapQuote(vector.quote, { at: vector.at, collateral: vector.collateralJson }),
    );
    expect(error.code).toBe(ErrorCode.CRL_EXPIRED);
    expect(error.path).toBe('collateral/pckCrl');
  });

  it('mobilecoin: accepted with a warning naming the stale CRL under a 60-day collateral grace period', async () => {
    const vector = loadVector('sgx/mobilecoin-sgx-v3-00906ED50000-2023-07');
    const evidence = await verifyDcapQuote(vector.quote, {
      at: vector.at,
      collateral: vector.collateralJson,
      policy: graced(60 * 86400),
    });
    expect(evidence.tcb?.status).toBe('SWHardeningNeeded');
    expect([...(evidence.tcb?.advisoryIds ?? [])].sort()).toEqual(['INTEL-SA-00334', 'INTEL-SA-00615']);
    expect(evidence.claims.measurements.mrenclave).toBe(
      '840d61b0585dc8b4dc90f53af293c760fda06bee75978a6a86263ffb296423f4',
    );
    const stale = evidence.warnings.filter((w) => w.code === ErrorCode.CRL_EXPIRED);
    expect(stale).toHaveLength(1);
    expect(stale[0]!.message).toContain('PCK CRL');
    // The verdict may not be reused past the grace period's end.
    expect(evidence.validUntil.toISOString()).toBe('2023-07-20T22:00:36.000Z');
  });

  it('mobilecoin: a grace period too short still rejects', async () => {
    const vector = loadVector('sgx/mobilecoin-sgx-v3-00906ED50000-2023-07');
    const error = await rejection(
      verifyDcapQuote(vector.quote, {
        at: vector.at,
        collateral: vector.collateralJson,
        policy: graced(86400),
      }),
    );
    expect(error.code).toBe(ErrorCode.CRL_EXPIRED);
  });

  it('mobilecoin: the example TCB Info of another FMSPC is rejected', async () => {
    const vector = loadVector('sgx/mobilecoin-sgx-v3-00906ED50000-2023-07');
    const files = pcsFiles(vector);
    files['tcb_info.json'] = new Uint8Array(
      await import('node:fs').then((fs) =>
        fs.readFileSync(`${vector.dir}/negative_example_tcb_fmspc_mismatch.json`),
      ),
    );
    const error = await rejection(
      verifyDcapQuote(vector.quote, { at: vector.at, collateral: files, policy: graced(60 * 86400) }),
    );
    // Intel's documentation example is pretty-printed, so its signature cannot verify: rejected before FMSPC.
    expect(error.code).toBe(ErrorCode.SIG_INVALID);
  });

  it('collateral of another FMSPC (validly signed) is a COLLATERAL_MISMATCH naming both FMSPCs', async () => {
    const quote = loadVector('sgx/mobilecoin-sgx-v3-00906ED50000-2023-07');
    const other = loadVector('sgx/dcapqvl-sgx-v3-00A067110000-2023-11');
    const error = await rejection(
      verifyDcapQuote(quote.quote, { at: other.at, collateral: other.collateralJson }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
    expect(error.path).toBe('collateral/tcbInfo/fmspc');
    expect(error.message).toContain('00906ed50000');
    const tdx = loadVector('tdx/crosssrc-gotdxguest-cos113-tdx-v4-00806F050000-2025-06');
    const tdxOther = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06');
    const tdxError = await rejection(
      verifyDcapQuote(tdx.quote, { at: tdxOther.at, collateral: tdxOther.collateralJson }),
    );
    expect(tdxError.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('no collateral is COLLATERAL_MISSING', async () => {
    const vector = valid[0]!;
    const error = await rejection(verifyDcapQuote(vector.quote, { at: vector.at, collateral: undefined }));
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISSING);
  });
});

/** The instant every piece of collateral first holds, from the verified claims. */
function windowStart(claims: DcapClaims): Date {
  const dates = [
    claims.collateral.tcbInfo.issueDate,
    claims.collateral.qeIdentity.issueDate,
    claims.collateral.pckCrl.thisUpdate,
    claims.collateral.rootCaCrl.thisUpdate,
    claims.pckCertificate.notBefore,
  ].map((d) => Date.parse(d));
  return new Date(Math.max(...dates));
}

describe('validity windows', () => {
  const NOT_YET = new Set<string>([
    ErrorCode.COLLATERAL_NOT_YET_VALID,
    ErrorCode.CRL_NOT_YET_VALID,
    ErrorCode.CERT_NOT_YET_VALID,
  ]);
  const EXPIRED = new Set<string>([
    ErrorCode.COLLATERAL_EXPIRED,
    ErrorCode.CRL_EXPIRED,
    ErrorCode.CERT_EXPIRED,
  ]);
  for (const vector of valid) {
    it(`${vector.id}: holds from issueDate to nextUpdate and not a second outside`, async () => {
      const options = { collateral: vector.collateralJson };
      const evidence = await verifyDcapQuote(vector.quote, { ...options, at: vector.at });
      const start = windowStart(claimsOf(evidence));
      const end = evidence.validUntil;
      await verifyDcapQuote(vector.quote, { ...options, at: start });
      await verifyDcapQuote(vector.quote, { ...options, at: end });
      const early = await rejection(
        verifyDcapQuote(vector.quote, { ...options, at: new Date(start.getTime() - 1000) }),
      );
      expect(NOT_YET.has(early.code), early.message).toBe(true);
      const late = await rejection(
        verifyDcapQuote(vector.quote, { ...options, at: new Date(end.getTime() + 1000) }),
      );
      expect(EXPIRED.has(late.code), late.message).toBe(true);
    });
  }

  it('dcapqvl SGX 2023-11 at the source test time (before issueDate) is rejected', async () => {
    const vector = loadVector('sgx/dcapqvl-sgx-v3-00A067110000-2023-11');
    const error = await rejection(
      verifyDcapQuote(vector.quote, { at: new Date(1699301000 * 1000), collateral: vector.collateralJson }),
    );
    expect(NOT_YET.has(error.code)).toBe(true);
  });

  it('go-tdx-guest vector in 2053: rejected (expired)', async () => {
    const vector = loadVector('tdx/gotdxguest-tdx-v4-50806F000000-2023-06-no-tcb-match');
    const error = await rejection(
      verifyDcapQuote(vector.quote, {
        at: new Date('2053-07-01T01:00:00Z'),
        collateral: vector.collateralJson,
      }),
    );
    expect(EXPIRED.has(error.code)).toBe(true);
  });
});

describe('dcapPlatform module', () => {
  it('detects quotes and not other evidence', () => {
    for (const vector of vectors) expect(dcapPlatform.detect(vector.quote)).toBe(true);
    expect(dcapPlatform.detect(new Uint8Array(1000))).toBe(false);
    expect(dcapPlatform.detect(new Uint8Array([0x84, 0x44, 0xa1, 0x01]))).toBe(false);
    const snpLike = new Uint8Array(1184);
    snpLike[0] = 3;
    expect(dcapPlatform.detect(snpLike)).toBe(false);
  });

  it('verifyBytes returns the same evidence as verifyDcapQuote', async () => {
    const vector = valid[0]!;
    const evidence = await dcapPlatform.verifyBytes(vector.quote, {
      at: vector.at,
      collateral: vector.collateralJson,
    });
    expect(evidence.tcb?.status).toBe(vector.expected.tcb_status);
  });
});
