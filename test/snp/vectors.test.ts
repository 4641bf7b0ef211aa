/**
 * Every real SEV-SNP vector verifies at its pinned time, and its claims equal what expected.json asserts.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { ErrorCode } from '../../src/errors.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import {
  parseReport,
  parseVekExtensions,
  type TcbVersion,
  verifySnpBytes,
} from '../../src/platforms/snp/index.js';
import { loadVector, rejection, type TcbExpectation, VECTOR_IDS } from './helpers.js';

function tcbOf(
  expected: TcbExpectation,
): Pick<TcbVersion, 'bootloader' | 'tee' | 'snp' | 'microcode' | 'raw'> {
  return {
    bootloader: expected.bl,
    tee: expected.tee,
    snp: expected.snp,
    microcode: expected.ucode,
    raw: expected.raw,
  };
}

describe.each(VECTOR_IDS)('SEV-SNP vector %s', (id) => {
  const vector = loadVector(id);
  const p = vector.expected.parsed;

  it('is expected to be valid', () => {
    expect(vector.expected.expected.verdict).toBe('valid');
  });

  it('verifies at its time with the shipped chain, and the claims match expected.json', async () => {
    const evidence = await verifySnpBytes(vector.report, {
      at: vector.at,
      collateral: { vcek: vector.vcek, chain: vector.chain },
    });
    const c = evidence.platformClaims;
    expect(evidence.platform).toBe('sev-snp');
    expect(c.version).toBe(p.version);
    expect(c.guestSvn).toBe(p.guest_svn);
    expect(Number.parseInt(c.policy.raw, 16)).toBe(p.policy);
    expect(c.familyId).toBe(p.family_id);
    expect(c.imageId).toBe(p.image_id);
    expect(c.vmpl).toBe(p.vmpl);
    expect(c.signatureAlgo).toBe(p.sig_algo);
    expect(Number.parseInt(c.platformInfo.raw, 16)).toBe(p.platform_info);
    const flags =
      (c.authorKeyEn ? 1 : 0) | (c.maskChipKey ? 2 : 0) | ((c.signingKey === 'vlek' ? 1 : 0) << 2);
    expect(flags).toBe(p.flags);
    expect(c.reportData).toBe(p.report_data);
    expect(c.measurement).toBe(p.measurement);
    expect(c.hostData).toBe(p.host_data);
    expect(c.idKeyDigest).toBe(p.id_key_digest);
    expect(c.authorKeyDigest).toBe(p.author_key_digest);
    expect(c.reportId).toBe(p.report_id);
    expect(c.reportIdMa).toBe(p.report_id_ma);
    expect(c.chipId).toBe(p.chip_id);
    expect(c.currentTcb).toMatchObject(tcbOf(p.current_tcb));
    expect(c.reportedTcb).toMatchObject(tcbOf(p.reported_tcb));
    expect(c.committedTcb).toMatchObject(tcbOf(p.committed_tcb));
    expect(c.launchTcb).toMatchObject(tcbOf(p.launch_tcb));
    expect(c.currentFirmware).toEqual({
      major: p.current_major,
      minor: p.current_minor,
      build: p.current_build,
    });
    expect(c.committedFirmware).toEqual({
      major: p.committed_major,
      minor: p.committed_minor,
      build: p.committed_build,
    });
    if (p.cpuid_fam_id === undefined) {
      expect(c.cpuid).toBeUndefined();
      expect(c.productSource).toBe('certificate');
    } else {
      expect(c.cpuid).toEqual({ family: p.cpuid_fam_id, model: p.cpuid_mod_id, stepping: p.cpuid_step });
      expect(c.productSource).toBe('cpuid');
    }
    expect(c.endorsementKey.subject).toContain(String(p.vek_subject).split(',')[0]);
    expect(c.endorsementKey.issuer).toContain(String(p.vek_issuer).split(',')[0]);
    expect(c.signingKey).toBe(String(p.vek_subject).startsWith('CN=SEV-VLEK') ? 'vlek' : 'vcek');
    // Common claims, under the names the generic appraiser reads.
    expect(evidence.claims.measurements).toEqual({ measurement: p.measurement });
    expect(evidence.claims.reportData).toBe(p.report_data);
    expect(evidence.claims.debug).toBe(((p.policy as number) & (1 << 19)) !== 0);
    expect(evidence.validUntil.getTime()).toBeLessThanOrEqual(
      vector.expected.validity_window.not_after_unix * 1000,
    );
    expect(evidence.checks.every((check) => check.ok)).toBe(true);
    // No CRL given: a warning, not silence.
    expect(evidence.warnings.map((w) => w.code)).toEqual([ErrorCode.COLLATERAL_MISSING]);
    expect(c.crlChecked).toBe(false);
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it('verifies with only the VCEK/VLEK, using the embedded, pinned ASK/ASVK and ARK', async () => {
    const evidence = await verifySnpBytes(vector.report, {
      at: vector.at,
      collateral: { vcek: vector.vcek },
    });
    expect(evidence.platformClaims.root).toMatch(/^AMD ARK-(Milan|Genoa)$/);
  });

  it('reads the VCEK/VLEK extensions as expected.json lists them', () => {
    const der = vector.vcekIsPem ? undefined : parseVekExtensions(parseCertificate(vector.vcek), 'vek');
    if (der === undefined) return; // PEM vectors are covered by the verification above.
    const ext = p.vek_ext;
    expect(der.tcb.bootloader).toBe(ext['3.1']);
    expect(der.tcb.tee).toBe(ext['3.2']);
    expect(der.tcb.snp).toBe(ext['3.3']);
    expect(der.tcb.microcode).toBe(ext['3.8']);
    if (ext['4'] !== undefined) expect(toHex(der.hwId!)).toBe(ext['4']);
    else expect(der.hwId).toBeUndefined();
  });

  it('is rejected before the certificate is valid and after it expires', async () => {
    const window = vector.expected.validity_window;
    const early = await rejection(() =>
      verifySnpBytes(vector.report, {
        at: new Date((window.not_before_unix - 1) * 1000),
        collateral: { vcek: vector.vcek, chain: vector.chain },
      }),
    );
    expect(early.code).toBe(ErrorCode.CERT_NOT_YET_VALID);
    const late = await rejection(() =>
      verifySnpBytes(vector.report, {
        at: new Date((window.not_after_unix + 1) * 1000),
        collateral: { vcek: vector.vcek, chain: vector.chain },
      }),
    );
    expect(late.code).toBe(ErrorCode.CERT_EXPIRED);
  });

  it('parses to the same report when re-parsed from its own bytes', () => {
    const report = parseReport(vector.report);
    expect(parseReport(report.bytes)).toEqual(report);
  });
});
