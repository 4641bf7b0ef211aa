/**
 * Differential tests against two independent SEV-SNP verifiers (devDependencies, pinned exactly):
 * - @tinfoilsh/verifier 1.1.0 (TypeScript; Genoa VCEK only; checks certificate validity at the wall clock);
 * - @lit-protocol/sev-snp-utils-sdk 6.11.5 (Rust/WASM; Milan VCEK only; embedded Milan chain).
 * The parsed fields must agree on every vector; the verdicts agree wherever the peer supports the vector,
 * and every disagreement is asserted here and explained in docs/snp.md.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { VeriteeError } from '../../src/errors.js';
import { pemToDer } from '../../src/pki/certificate.js';
import { REPORT_SIZE, SIGNED_SIZE, verifySnpBytes } from '../../src/platforms/snp/index.js';
import { loadVector, type SnpVector, VECTOR_IDS } from './helpers.js';

// Tinfoil exports only its high-level API; its SEV modules are loaded from the package's files.
const tinfoilReport = await import('../../node_modules/@tinfoilsh/verifier/dist/sev/report.js');
const tinfoilChain = await import('../../node_modules/@tinfoilsh/verifier/dist/sev/cert-chain.js');
const tinfoilVerify = await import('../../node_modules/@tinfoilsh/verifier/dist/sev/verify.js');
const tinfoilUtils = await import('../../node_modules/@tinfoilsh/verifier/dist/sev/utils.js');

interface LitSdk {
  initWasmSevSnpUtilsSdk(): Promise<unknown>;
  parse_attestation_report(reportBase64: string): Record<string, unknown>;
  verify_attestation_report(reportBase64: string, vcek: Uint8Array): Promise<void>;
}
const lit = createRequire(import.meta.url)('@lit-protocol/sev-snp-utils-sdk') as LitSdk;

function vcekDer(vector: SnpVector): Uint8Array {
  if (!vector.vcekIsPem) return vector.vcek;
  return pemToDer(new TextDecoder().decode(vector.vcek))[0]!;
}

function u64le(raw: string): bigint {
  return Buffer.from(raw, 'hex').readBigUInt64LE(0);
}

async function ours(vector: SnpVector, report = vector.report): Promise<boolean> {
  try {
    await verifySnpBytes(report, { at: vector.at, collateral: { vcek: vector.vcek } });
    return true;
  } catch (error) {
    if (error instanceof VeriteeError) return false;
    throw error;
  }
}

/** Tinfoil's cryptographic verdict: chain + signature + VCEK TCB + hwID (not its deployment policy). */
async function tinfoil(vector: SnpVector, report = vector.report): Promise<true | string> {
  try {
    const parsed = new tinfoilReport.Report(report);
    const chain = await tinfoilChain.CertificateChain.fromReport(parsed, vcekDer(vector));
    await tinfoilVerify.verifyAttestation(chain, parsed);
    chain.validateVcekTcb(tinfoilUtils.tcbFromInt(parsed.reportedTcb));
    chain.validateVcekHwid(parsed.chipId);
    return true;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function litVerdict(vector: SnpVector, report = vector.report): Promise<true | string> {
  try {
    await lit.verify_attestation_report(Buffer.from(report).toString('base64'), vcekDer(vector));
    return true;
  } catch (error) {
    return String(error);
  }
}

beforeAll(async () => {
  await lit.initWasmSevSnpUtilsSdk();
});

describe.each(VECTOR_IDS)('differential on %s', (id) => {
  const vector = loadVector(id);
  const isGenoa = id.includes('genoa');
  const isVlek = id.includes('vlek');

  it('tinfoil parses the same field values', async () => {
    const evidence = await verifySnpBytes(vector.report, {
      at: vector.at,
      collateral: { vcek: vector.vcek },
    });
    const c = evidence.platformClaims;
    if (isVlek) {
      // Disagreement 3: tinfoil refuses VLEK-signed reports already when parsing.
      expect(() => new tinfoilReport.Report(vector.report)).toThrow(/only supports VCEK/);
      return;
    }
    const t = new tinfoilReport.Report(vector.report);
    expect(t.version).toBe(c.version);
    expect(t.guestSvn).toBe(c.guestSvn);
    expect(t.policy).toBe(BigInt(`0x${c.policy.raw}`));
    expect(t.policyParsed.debug).toBe(c.policy.debug);
    expect(t.policyParsed.smt).toBe(c.policy.smt);
    expect(t.policyParsed.migrateMa).toBe(c.policy.migrateMa);
    expect(t.policyParsed.singleSocket).toBe(c.policy.singleSocket);
    expect(t.vmpl).toBe(c.vmpl);
    expect(t.signatureAlgo).toBe(c.signatureAlgo);
    expect(t.platformInfo).toBe(BigInt(`0x${c.platformInfo.raw}`));
    expect(t.platformInfoParsed.smtEnabled).toBe(c.platformInfo.smtEnabled);
    expect(t.platformInfoParsed.eccEnabled).toBe(c.platformInfo.eccEnabled);
    expect(t.platformInfoParsed.aliasCheckComplete).toBe(c.platformInfo.aliasCheckComplete);
    expect(t.signerInfoParsed.signingKey).toBe(c.signingKey === 'vlek' ? 1 : 0);
    expect(t.signerInfoParsed.maskChipKey).toBe(c.maskChipKey);
    for (const [theirs, mine] of [
      [t.familyId, c.familyId],
      [t.imageId, c.imageId],
      [t.reportData, c.reportData],
      [t.measurement, c.measurement],
      [t.hostData, c.hostData],
      [t.idKeyDigest, c.idKeyDigest],
      [t.authorKeyDigest, c.authorKeyDigest],
      [t.reportId, c.reportId],
      [t.reportIdMa, c.reportIdMa],
      [t.chipId, c.chipId],
    ] as const) {
      expect(toHex(theirs)).toBe(mine);
    }
    expect(t.currentTcb).toBe(u64le(c.currentTcb.raw));
    expect(t.reportedTcb).toBe(u64le(c.reportedTcb.raw));
    expect(t.committedTcb).toBe(u64le(c.committedTcb.raw));
    expect(t.launchTcb).toBe(u64le(c.launchTcb.raw));
    const tcb = tinfoilUtils.tcbFromInt(t.reportedTcb);
    expect([tcb.blSpl, tcb.teeSpl, tcb.snpSpl, tcb.ucodeSpl]).toEqual([
      c.reportedTcb.bootloader,
      c.reportedTcb.tee,
      c.reportedTcb.snp,
      c.reportedTcb.microcode,
    ]);
    expect([t.currentMajor, t.currentMinor, t.currentBuild]).toEqual([
      c.currentFirmware.major,
      c.currentFirmware.minor,
      c.currentFirmware.build,
    ]);
    if (c.cpuid !== undefined) {
      expect([t.family, t.model, t.stepping]).toEqual([c.cpuid.family, c.cpuid.model, c.cpuid.stepping]);
      expect(t.productName).toBe(c.product);
    } else {
      // Disagreement 1: tinfoil assumes every version 2 report is Genoa; veritee takes the product from
      // the VCEK (all v2 vectors here are Milan).
      expect(t.productName).toBe('Genoa');
      expect(c.product).toBe('Milan');
    }
  });

  it('lit parses the same measurement, report data, chip id and reported TCB', () => {
    const parsed = lit.parse_attestation_report(Buffer.from(vector.report).toString('base64'));
    const p = vector.expected.parsed;
    const bytesOf = (value: unknown): string => toHex(Uint8Array.from(value as number[]));
    expect(bytesOf(parsed.measurement)).toBe(p.measurement);
    expect(bytesOf(parsed.report_data)).toBe(p.report_data);
    expect(bytesOf(parsed.chip_id)).toBe(p.chip_id);
    expect(parsed.vmpl).toBe(p.vmpl);
    expect(parsed.reported_tcb).toMatchObject({
      bootloader: p.reported_tcb.bl,
      tee: p.reported_tcb.tee,
      snp: p.reported_tcb.snp,
      microcode: p.reported_tcb.ucode,
    });
  });

  it('verdicts agree wherever the peer supports the vector', async () => {
    expect(await ours(vector)).toBe(true);
    const t = await tinfoil(vector);
    const l = await litVerdict(vector);
    if (isGenoa) {
      expect(t).toBe(true);
      // Disagreement 2: lit embeds only the Milan chain.
      expect(l).toMatch(/does not RSA sign/);
    } else if (isVlek) {
      // Disagreement 3: neither peer supports VLEK-signed reports.
      expect(t).toMatch(/only supports VCEK/);
      expect(l).toMatch(/does not RSA sign/);
    } else {
      expect(t).toMatch(/Product name must be "Genoa"/);
      expect(l).toBe(true);
    }
  });

  it('every byte flip of the signed area is rejected by veritee and by the supporting peer', async () => {
    const peer = isGenoa ? tinfoil : isVlek ? undefined : litVerdict;
    if (peer === undefined) return;
    for (let i = 0; i < SIGNED_SIZE; i += 3) {
      const mutated = vector.report.slice();
      mutated[i]! ^= 0x01;
      expect(await ours(vector, mutated)).toBe(false);
      expect(await peer(vector, mutated)).not.toBe(true);
    }
  });

  it('reserved bytes after the signature: veritee and tinfoil reject a non-zero byte, lit accepts it', async () => {
    if (isVlek) return;
    const mutated = vector.report.slice();
    mutated[REPORT_SIZE - 1] = 0x5a; // inside SIGNATURE's reserved tail (0x330–0x49F), outside what is signed
    expect(await ours(vector, mutated)).toBe(false);
    if (isGenoa) {
      expect(await tinfoil(vector, mutated)).toMatch(/Reserved/);
    } else {
      // Disagreement 4: lit ignores the unsigned reserved tail, so such a report verifies for it.
      expect(await litVerdict(vector, mutated)).toBe(true);
    }
  });
});
