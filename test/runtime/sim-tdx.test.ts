/**
 * The simulator's TDX quote v4: the real Intel DCAP format with collateral signed by the installation's
 * Intel-shaped development PKI, verified by the real DCAP code path. It verifies only under simulator
 * roots and a policy listing `sim`, always as platform `sim`; every signed bit matters; real Intel-rooted
 * quotes still verify as `tdx` next to it.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import type { TrustAnchor } from '../../src/pki/chain.js';
import { parsePckExtension } from '../../src/platforms/dcap/pck.js';
import { parseQuote } from '../../src/platforms/dcap/quote.js';
import { verifyDcapQuote } from '../../src/platforms/dcap/verify.js';
import {
  defaultSimulatedTdMeasurements,
  SIM_TDX_COLLATERAL,
  simulatorProvider,
} from '../../src/runtime/providers/sim.js';
import type { EvidenceProvider } from '../../src/runtime/providers/types.js';
import { simulatorAnchors, simulatorAnchorsFromPem } from '../../src/runtime/sim/store.js';
import { SimulatedTdx } from '../../src/runtime/sim/tdx.js';
import { loadSimulatedIntelPki, SIM_FMSPC } from '../../src/runtime/sim/tdx-pki.js';
import { loadPolicy, verify } from '../../src/verify.js';
import { loadVector } from '../dcap/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'veritee-sim-tdx-'));
const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
const SIM_POLICY = loadPolicy({ platforms: ['sim'] });
const REAL = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06');

let provider: EvidenceProvider;
let anchors: TrustAnchor[];
let quote: Uint8Array;
let collateral: unknown;

beforeAll(async () => {
  provider = simulatorProvider({ dir, format: 'tdx', warn: () => {} });
  anchors = await simulatorAnchors(dir);
  quote = (await provider.getEvidence(REPORT_DATA)).evidence;
  collateral = JSON.parse(new TextDecoder().decode(await provider.collateral!()));
});

describe('the simulated TDX platform', () => {
  it('keeps an Intel-shaped PKI per installation: P-256 keys readable only by the owner', () => {
    const pki = loadSimulatedIntelPki(dir, false);
    for (const file of ['root', 'pck-ca', 'tcb-signing', 'pck']) {
      expect(statSync(join(dir, 'tdx', `${file}.key.pem`)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(dir, 'tdx')).mode & 0o777).toBe(0o700);
    expect(pki.root.certificate.subject).toMatch(/veritee simulator \(not real hardware\)/);
    expect(pki.pck.certificate.subject).toMatch(/^CN=Intel SGX PCK Certificate, O=veritee simulator/);
    // The PCK certificate carries the SGX extension our verifier reads.
    const extension = parsePckExtension(pki.pck.certificate);
    expect(toHex(extension.fmspc)).toBe(toHex(SIM_FMSPC));
    expect(extension.sgxType).toBe('Scalable');
    expect(extension.tcbComponents).toHaveLength(16);
    // A second load reads the same PKI back; nothing is regenerated.
    expect(loadSimulatedIntelPki(dir).root.certificate.fingerprint).toBe(pki.root.certificate.fingerprint);
  });

  it('emits a TDX quote v4 in the real layout, binding the attestation key in the QE report', () => {
    const parsed = parseQuote(quote);
    expect(parsed.header).toMatchObject({ version: 4, teeType: 'tdx', attestationKeyType: 2 });
    expect(toHex(parsed.header.qeVendorId)).toBe('939a7233f79c4ca9940a0db3957f0607');
    expect(parsed.body.kind).toBe('td10');
    expect(parsed.trailingBytes).toBe(0);
    const report = parsed.body.report as { reportData: Uint8Array; mrTd: Uint8Array };
    expect(toHex(report.reportData)).toBe(toHex(REPORT_DATA));
    expect(toHex(report.mrTd)).toBe(toHex(defaultSimulatedTdMeasurements().mrtd));
    const binding = createHash('sha256').update(parsed.attestationKey).update(parsed.qe.qeAuthData).digest();
    expect(toHex(parsed.qe.qeReport.reportData)).toBe(toHex(binding) + '00'.repeat(32));
  });

  it('refuses a damaged PKI, a key others can read, and an unknown format, with typed errors', () => {
    const damaged = (damage: (tdx: string) => void): string => {
      const copy = mkdtempSync(join(tmpdir(), 'veritee-sim-tdx-bad-'));
      cpSync(join(dir, 'tdx'), join(copy, 'tdx'), { recursive: true });
      damage(join(copy, 'tdx'));
      return copy;
    };
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
        return undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(VeriteeError);
        return (error as VeriteeError).code;
      }
    };
    const failures = [
      damaged((tdx) => chmodSync(join(tdx, 'pck.key.pem'), 0o644)),
      damaged((tdx) => writeFileSync(join(tdx, 'pck.key.pem'), 'not a key')),
      damaged((tdx) => rmSync(join(tdx, 'tcb-signing.key.pem'))),
      // A certificate that is not the simulator's (here: a real Intel PCK chain) is refused.
      damaged((tdx) => writeFileSync(join(tdx, 'pck-ca.pem'), parseQuote(REAL.quote).qe.pckChainPem)),
    ].map((copy) => {
      let message = '';
      try {
        loadSimulatedIntelPki(copy, false);
      } catch (error) {
        message = (error as VeriteeError).message;
      }
      return [codeOf(() => loadSimulatedIntelPki(copy, false)), message];
    });
    expect(failures.map(([code]) => code)).toEqual(Array(4).fill(ErrorCode.PROVIDER_FAILED));
    expect(failures.map(([, message]) => message)).toEqual([
      expect.stringMatching(/readable by others/),
      expect.stringMatching(/not a PKCS #8 private key/),
      expect.stringMatching(/cannot read simulator file .*tcb-signing\.key\.pem/),
      expect.stringMatching(/pck-ca\.pem is not a veritee simulator certificate/),
    ]);
    const copy = damaged(() => {});
    expect(codeOf(() => loadSimulatedIntelPki(join(copy, 'none'), false))).toBe(
      ErrorCode.PROVIDER_UNAVAILABLE,
    );
    expect(codeOf(() => simulatorProvider({ dir, format: 'sgx' as 'tdx', warn: () => {} }))).toBe(
      ErrorCode.ARGUMENT_INVALID,
    );
    const sim = new SimulatedTdx(loadSimulatedIntelPki(dir), defaultSimulatedTdMeasurements());
    expect(codeOf(() => sim.quote(new Uint8Array(63)))).toBe(ErrorCode.ARGUMENT_INVALID);
    expect(
      codeOf(
        () => new SimulatedTdx(loadSimulatedIntelPki(dir), { mrtd: new Uint8Array(32), rtmr: [] as never }),
      ),
    ).toBe(ErrorCode.ARGUMENT_INVALID);
  });

  it('writes its collateral next to the roots, as the served dcap-qvl JSON', () => {
    const path = join(dir, SIM_TDX_COLLATERAL);
    expect(existsSync(path)).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(collateral);
  });
});

describe('verification of the simulated TDX quote', () => {
  it('verifies under the simulator roots and a policy listing sim: platform sim, the given values', async () => {
    const measurements = defaultSimulatedTdMeasurements();
    const policy = loadPolicy({ platforms: ['sim'], measurements: { mrtd: toHex(measurements.mrtd) } });
    const result = await verify(quote, { simulatorRoots: anchors, collateral, policy });
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ platform: 'sim', verified: true, verdict: 'affirming', debug: false });
    expect(result.claims).toMatchObject({ simulatedPlatform: 'tdx', teeType: 'tdx', fmspc: 'ee5100000000' });
    expect(result.measurements.mrtd).toBe(toHex(measurements.mrtd));
    measurements.rtmr.forEach((value, i) => {
      expect(result.measurements[`rtmr${i}`]).toBe(toHex(value));
    });
    expect(result.reportData).toBe(toHex(REPORT_DATA));
    expect(result.tcb?.status).toBe('UpToDate');
    expect(result.checks.find((check) => check.id === 'dcap.pck.chain')?.detail).toMatch(/SIMULATOR/);
    // The Intel PCS folder shape of the same collateral verifies the same way.
    const sim = new SimulatedTdx(loadSimulatedIntelPki(dir), measurements);
    const viaFiles = await verify(sim.quote(REPORT_DATA), {
      simulatorRoots: anchors,
      collateral: sim.pcsFiles(),
      policy,
    });
    expect(viaFiles).toMatchObject({ platform: 'sim', verdict: 'affirming' });
  });

  it('one platform, quotes with changing and repeated report data: each result carries its own', async () => {
    // The verifier remembers the hex of a platform's last signed bytes; it must be used only when equal.
    const sim = new SimulatedTdx(loadSimulatedIntelPki(dir), defaultSimulatedTdMeasurements());
    const other = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
    for (const data of [REPORT_DATA, REPORT_DATA, other, REPORT_DATA, other, other]) {
      const result = await verifyDcapQuote(sim.quote(data), {
        at: new Date(),
        collateral,
        simulatorRoots: anchors,
      });
      expect(result.claims.reportData).toBe(toHex(data));
      expect(result.platformClaims.tdx?.reportData).toBe(toHex(data));
    }
  });

  it('is contraindicated under the default policy, even with the roots trusted', async () => {
    const result = await verify(quote, { simulatorRoots: anchors, collateral });
    expect(result.platform).toBe('sim');
    expect(result.verified).toBe(true);
    expect(result.verdict).toBe('contraindicated');
    expect(result.checks.find((check) => !check.ok)?.id).toBe('policy.platform');
  });

  it('without the simulator roots: the untrusted-root error, like a forged chain', async () => {
    const result = await verify(quote, { collateral, policy: SIM_POLICY });
    expect(result.verified).toBe(false);
    expect(result.errors[0]?.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
    // Another installation's roots are not this one's.
    const other = mkdtempSync(join(tmpdir(), 'veritee-sim-tdx-other-'));
    simulatorProvider({ dir: other, format: 'tdx', warn: () => {} });
    const foreign = await verify(quote, {
      simulatorRoots: await simulatorAnchors(other),
      collateral,
      policy: SIM_POLICY,
    });
    expect(foreign.errors[0]?.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
  });

  it('stays sim when its root is passed by mistake as a vendor anchor', async () => {
    const result = await verify(quote, { anchors, collateral, policy: SIM_POLICY });
    expect(result).toMatchObject({ platform: 'sim', verdict: 'affirming' });
  });

  it('never mixes with Intel: sim quote + real collateral and real quote + sim collateral are refused', async () => {
    const pem = readFileSync(join(dir, 'tdx', 'root.pem'), 'utf8');
    const simulatorRoots = await simulatorAnchorsFromPem(pem);
    // Real collateral, stale now, is let through by a grace period so the roots are what is compared.
    const lenient = loadPolicy({ platforms: ['sim'], tcb: { collateralGraceSeconds: 10 * 365 * 86400 } });
    const simWithReal = await verify(quote, {
      simulatorRoots,
      collateral: REAL.collateralJson,
      policy: lenient,
    });
    expect(simWithReal.verified).toBe(false);
    expect(simWithReal.errors[0]).toMatchObject({ code: ErrorCode.CHAIN_UNTRUSTED_ROOT });
    expect(simWithReal.errors[0]?.message).toMatch(/different roots/);
    const realWithSim = await verify(REAL.quote, { simulatorRoots, collateral, policy: SIM_POLICY });
    expect(realWithSim.verified).toBe(false);
    expect(realWithSim.errors[0]).toMatchObject({ code: ErrorCode.CHAIN_UNTRUSTED_ROOT });
    expect(realWithSim.errors[0]?.message).toMatch(/different roots/);
  });

  it('leaves real Intel-rooted quotes verifying as tdx when simulator roots are also trusted', async () => {
    const result = await verify(REAL.quote, {
      simulatorRoots: anchors,
      collateral: REAL.collateralJson,
      at: REAL.at,
    });
    expect(result.errors).toEqual([]);
    expect(result.platform).toBe('tdx');
    expect(result.claims.simulatedPlatform).toBeUndefined();
  });
});

describe('every single-bit flip of the simulated quote', () => {
  it('is rejected unless it only touches PEM whitespace or the PEM terminator', async () => {
    const at = new Date();
    const pemStart = new TextDecoder('latin1').decode(quote).indexOf('-----BEGIN');
    const benign = (offset: number): boolean =>
      offset >= pemStart && [0x0a, 0x0d, 0x20, 0x09, 0x00].includes(quote[offset]!);
    const codes = new Map<string, number>();
    for (let offset = 0; offset < quote.length; offset++) {
      const copy = quote.slice();
      copy[offset]! ^= 1 << (offset % 8);
      try {
        await verifyDcapQuote(copy, { at, simulatorRoots: anchors, collateral });
        expect(benign(offset), `flip at ${offset} was accepted`).toBe(true);
      } catch (error) {
        if (!(error instanceof VeriteeError)) throw error;
        codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
      }
    }
    // Flips in the signed header and body fail the quote signature.
    expect(codes.get(ErrorCode.SIG_INVALID)).toBeGreaterThan(600);
  });
});
