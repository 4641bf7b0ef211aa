/**
 * What must be rejected: the synthetic negative VCEKs, the mutations the vector sources assert, a VCEK for
 * another chip or another TCB, the wrong product's root, untrusted roots, and CRL revocations.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { AMD_MILAN_ASVK } from '../../src/pki/embedded.js';
import {
  amdRootAnchor,
  parseVekExtensions,
  type SnpCollateral,
  verifySnpBytes,
} from '../../src/platforms/snp/index.js';
import {
  buildCertTable,
  buildReport,
  FAKE_AT,
  type FakeTcb,
  fakeChain,
  fakeCrl,
  fakeVek,
  GUID,
  signReport,
} from './fake.js';
import { file, loadVector, rejection } from './helpers.js';

const milan = loadVector('trustee-milan-v2');
const azureMilan = loadVector('trustee-azure-milan-v2');
const genoa = loadVector('trustee-azure-genoa-v3');
const vlek = loadVector('trustee-milan-vlek-v3');

function bump(bytes: Uint8Array, index: number): Uint8Array {
  const out = bytes.slice();
  out[index] = (out[index]! + 1) & 0xff;
  return out;
}

describe('synthetic negative VCEKs (trustee)', () => {
  for (const name of [
    'negative_vcek_synthetic_legacy_hwid.der',
    'negative_vcek_synthetic_octetstring_hwid.der',
  ]) {
    it(`${name}: hwID parses in either encoding, and the certificate is rejected`, async () => {
      const der = file('trustee-milan-v2', name);
      const info = parseVekExtensions(parseCertificate(der));
      expect(info.kind).toBe('vcek');
      expect(Array.from(info.hwId!)).toEqual(Array.from({ length: 64 }, (_, i) => i));
      expect(info.hwIdWrapped).toBe(name.includes('octetstring'));
      const error = await rejection(() =>
        verifySnpBytes(milan.report, { at: milan.at, collateral: { vcek: der, chain: milan.chain } }),
      );
      expect(error.code).toBe(ErrorCode.CERT_NOT_YET_VALID); // issued 2023-02-03 / 2023-08-17, after the report's time
      const inWindow = await rejection(() =>
        verifySnpBytes(milan.report, {
          at: new Date('2024-01-01T00:00:00Z'),
          collateral: { vcek: der, chain: milan.chain },
        }),
      );
      expect(inWindow.code).toBe(ErrorCode.SIG_INVALID);
    });
  }
});

describe('mutations asserted by the vector sources', () => {
  it('report byte 42 + 1 → signature fails', async () => {
    for (const vector of [milan, vlek]) {
      const error = await rejection(() =>
        verifySnpBytes(bump(vector.report, 42), { at: vector.at, collateral: { vcek: vector.vcek } }),
      );
      expect(error.code).toBe(ErrorCode.SIG_INVALID);
    }
  });

  it('report byte 384 + 1 (REPORTED_TCB boot loader) → the certificate TCB no longer matches', async () => {
    for (const vector of [milan, vlek]) {
      const error = await rejection(() =>
        verifySnpBytes(bump(vector.report, 384), { at: vector.at, collateral: { vcek: vector.vcek } }),
      );
      expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
      expect(error.message).toContain('bootloader');
    }
  });

  it('Azure: report byte 0x186 = 0 (REPORTED_TCB SNP) → rejected', async () => {
    const mutated = azureMilan.report.slice();
    mutated[0x186] = 0;
    const error = await rejection(() =>
      verifySnpBytes(mutated, { at: azureMilan.at, collateral: { vcek: azureMilan.vcek } }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('VCEK DER byte 42 + 1 → rejected', async () => {
    const error = await rejection(() =>
      verifySnpBytes(milan.report, {
        at: milan.at,
        collateral: { vcek: bump(milan.vcek, 42), chain: milan.chain },
      }),
    );
    expect([ErrorCode.SIG_INVALID, ErrorCode.CERT_MALFORMED]).toContain(error.code);
  });

  it('VCEK checked against the ASVK instead of the ASK → rejected', async () => {
    const error = await rejection(() =>
      verifySnpBytes(milan.report, {
        at: milan.at,
        collateral: { vcek: milan.vcek, chain: AMD_MILAN_ASVK.pem },
      }),
    );
    expect(error.code).toBe(ErrorCode.CHAIN_BROKEN);
  });
});

describe('wrong endorsements', () => {
  it('a VCEK for another chip (same product and TCB) is rejected on hwID', async () => {
    // trustee-milan-v2 and trustee-azure-milan-v2 share REPORTED_TCB 3/0/8/115 but not CHIP_ID.
    const error = await rejection(() =>
      verifySnpBytes(milan.report, { at: azureMilan.at, collateral: { vcek: azureMilan.vcek } }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
    expect(error.message).toContain('another chip');
  });

  it('a VCEK of another TCB for the same chip is rejected', async () => {
    const gosev = loadVector('gosevguest-milan-v2');
    const error = await rejection(() =>
      verifySnpBytes(milan.report, { at: milan.at, collateral: { vcek: gosev.vcek } }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('Genoa evidence is rejected against the Milan root', async () => {
    const error = await rejection(async () =>
      verifySnpBytes(genoa.report, {
        at: genoa.at,
        anchors: [await amdRootAnchor('Milan')],
        collateral: { vcek: genoa.vcek, chain: genoa.chain },
      }),
    );
    expect(error.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
  });

  it('Genoa evidence is rejected with the Milan chain', async () => {
    const error = await rejection(() =>
      verifySnpBytes(genoa.report, { at: genoa.at, collateral: { vcek: genoa.vcek, chain: milan.chain } }),
    );
    expect(error.code).toBe(ErrorCode.CHAIN_BROKEN);
  });

  it('a Genoa report (by CPUID) with a Milan VCEK is a product mismatch', async () => {
    const error = await rejection(() =>
      verifySnpBytes(genoa.report, { at: genoa.at, collateral: { vcek: milan.vcek } }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('a VLEK-signed report with a VCEK (and the reverse) is rejected', async () => {
    const a = await rejection(() =>
      verifySnpBytes(vlek.report, { at: vlek.at, collateral: { vcek: milan.vcek } }),
    );
    expect(a.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
    const b = await rejection(() =>
      verifySnpBytes(milan.report, { at: milan.at, collateral: { vcek: vlek.vcek } }),
    );
    expect(b.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('no VCEK at all is COLLATERAL_MISSING', async () => {
    const error = await rejection(() => verifySnpBytes(milan.report, { at: milan.at }));
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISSING);
  });

  it('a self-consistent fake chain is rejected without its anchor, and a supplied unpinned ARK is refused', async () => {
    const chain = await fakeChain();
    const tcb: FakeTcb = { bootloader: 4, tee: 0, snp: 22, microcode: 210 };
    const chipId = new Uint8Array(64).fill(7);
    const vek = await fakeVek({ productName: 'Milan-B0', tcb, hwId: chipId });
    const report = await signReport(buildReport({ product: 'Milan', tcb, chipId }), vek.keys.privateKey);
    const collateral: SnpCollateral = { vcek: vek.der, chain: chain.chainPem };
    await verifySnpBytes(report, { at: FAKE_AT, anchors: [chain.anchor], collateral });
    const error = await rejection(() => verifySnpBytes(report, { at: FAKE_AT, collateral }));
    expect(error.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
  });
});

describe('fake chains: TCB, hwID, Turin, VLEK, CRL, extended reports', () => {
  const tcb: FakeTcb = { bootloader: 9, tee: 1, snp: 23, microcode: 72 };
  const chipId = Uint8Array.from({ length: 64 }, (_, i) => 0x80 + i);

  async function setup(options: {
    product?: 'Milan' | 'Genoa' | 'Turin';
    reportTcb?: FakeTcb;
    vekTcb?: FakeTcb;
    vekHwId?: Uint8Array;
    wrapHwId?: boolean;
    reportChipId?: Uint8Array;
    productName?: string;
    kind?: 'vcek' | 'vlek';
    version?: number;
  }) {
    const chain = await fakeChain();
    const product = options.product ?? 'Genoa';
    const kind = options.kind ?? 'vcek';
    const vek = await fakeVek({
      kind,
      productName: options.productName ?? `${product}-B1`,
      tcb: options.vekTcb ?? tcb,
      hwId: options.vekHwId ?? chipId,
      wrapHwId: options.wrapHwId ?? false,
    });
    const report = await signReport(
      buildReport({
        product,
        version: options.version ?? 3,
        tcb: options.reportTcb ?? tcb,
        chipId: options.reportChipId ?? chipId,
        signingKey: kind,
      }),
      vek.keys.privateKey,
    );
    return {
      chain,
      vek,
      report,
      anchors: [chain.anchor],
      collateral: { vcek: vek.der, chain: chain.chainPem },
    };
  }

  it('accepts a consistent fake Genoa VCEK (control)', async () => {
    const s = await setup({});
    const evidence = await verifySnpBytes(s.report, {
      at: FAKE_AT,
      anchors: s.anchors,
      collateral: s.collateral,
    });
    expect(evidence.platformClaims.product).toBe('Genoa');
    expect(evidence.platformClaims.root).toBe('Test ARK');
  });

  it('accepts the OCTET STRING hwID form when it matches', async () => {
    const s = await setup({ wrapHwId: true });
    await verifySnpBytes(s.report, { at: FAKE_AT, anchors: s.anchors, collateral: s.collateral });
  });

  for (const component of ['bootloader', 'tee', 'snp', 'microcode'] as const) {
    it(`rejects a VCEK whose ${component} SPL is lower than REPORTED_TCB`, async () => {
      const s = await setup({ vekTcb: { ...tcb, [component]: tcb[component] - 1 } });
      const error = await rejection(() =>
        verifySnpBytes(s.report, { at: FAKE_AT, anchors: s.anchors, collateral: s.collateral }),
      );
      expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
      expect(error.message).toContain(component);
    });
  }

  it('rejects a VCEK for another chip', async () => {
    const s = await setup({ vekHwId: new Uint8Array(64).fill(1) });
    const error = await rejection(() =>
      verifySnpBytes(s.report, { at: FAKE_AT, anchors: s.anchors, collateral: s.collateral }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('rejects a VCEK-signed report whose CHIP_ID is masked', async () => {
    const s = await setup({ reportChipId: new Uint8Array(64), vekHwId: new Uint8Array(64) });
    const error = await rejection(() =>
      verifySnpBytes(s.report, { at: FAKE_AT, anchors: s.anchors, collateral: s.collateral }),
    );
    expect(error.code).toBe(ErrorCode.EVIDENCE_INVALID);
  });

  it('accepts a VLEK with a masked CHIP_ID', async () => {
    const s = await setup({ kind: 'vlek', reportChipId: new Uint8Array(64), productName: 'Genoa' });
    const evidence = await verifySnpBytes(s.report, {
      at: FAKE_AT,
      anchors: s.anchors,
      collateral: s.collateral,
    });
    expect(evidence.platformClaims.signingKey).toBe('vlek');
    expect(evidence.platformClaims.endorsementKey.cspId).toBe('CN=test.example');
  });

  it('Turin: decodes the FMC layout and checks FMC; an 8-byte hwID matches the first 8 bytes of CHIP_ID', async () => {
    const turinTcb: FakeTcb = { fmc: 3, bootloader: 5, tee: 1, snp: 7, microcode: 40 };
    const turinChip = new Uint8Array(64);
    turinChip.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const s = await setup({
      product: 'Turin',
      reportTcb: turinTcb,
      vekTcb: turinTcb,
      reportChipId: turinChip,
      vekHwId: turinChip.subarray(0, 8),
      productName: 'Turin-C0',
    });
    const evidence = await verifySnpBytes(s.report, {
      at: FAKE_AT,
      anchors: s.anchors,
      collateral: s.collateral,
    });
    expect(evidence.platformClaims.reportedTcb).toMatchObject(turinTcb);
    const lowFmc = await setup({
      product: 'Turin',
      reportTcb: turinTcb,
      vekTcb: { ...turinTcb, fmc: 2 },
      reportChipId: turinChip,
      vekHwId: turinChip.subarray(0, 8),
      productName: 'Turin-C0',
    });
    const error = await rejection(() =>
      verifySnpBytes(lowFmc.report, { at: FAKE_AT, anchors: lowFmc.anchors, collateral: lowFmc.collateral }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
    expect(error.message).toContain('FMC');
  });

  it('an 8-byte hwID is refused outside Turin', async () => {
    const s = await setup({ vekHwId: chipId.subarray(0, 8) });
    const error = await rejection(() =>
      verifySnpBytes(s.report, { at: FAKE_AT, anchors: s.anchors, collateral: s.collateral }),
    );
    expect(error.code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });

  it('a version 2 report takes its product from the certificate; without a productName it is refused', async () => {
    const s = await setup({ version: 2 });
    const evidence = await verifySnpBytes(s.report, {
      at: FAKE_AT,
      anchors: s.anchors,
      collateral: s.collateral,
    });
    expect(evidence.platformClaims.productSource).toBe('certificate');
    const chain = await fakeChain();
    const vek = await fakeVek({ productName: undefined, tcb, hwId: chipId });
    const report = await signReport(
      buildReport({ product: 'Genoa', version: 2, tcb, chipId }),
      vek.keys.privateKey,
    );
    const error = await rejection(() =>
      verifySnpBytes(report, {
        at: FAKE_AT,
        anchors: [chain.anchor],
        collateral: { vcek: vek.der, chain: chain.chainPem },
      }),
    );
    expect(error.code).toBe(ErrorCode.UNSUPPORTED);
  });

  it('checks CRLs: the ASK revoked by the ARK, the VCEK revoked by the ASK, stale CRLs', async () => {
    const s = await setup({});
    const base = { at: FAKE_AT, anchors: s.anchors };
    const clean = await fakeCrl('ark', ['7f']);
    const ok = await verifySnpBytes(s.report, { ...base, collateral: { ...s.collateral, crl: clean } });
    expect(ok.platformClaims.crlChecked).toBe(true);
    expect(ok.warnings).toEqual([]);
    expect(ok.validUntil.toISOString()).toBe('2025-07-01T00:00:00.000Z');
    const askRevoked = await rejection(async () =>
      verifySnpBytes(s.report, {
        ...base,
        collateral: { ...s.collateral, crl: await fakeCrl('ark', ['02']) },
      }),
    );
    expect(askRevoked.code).toBe(ErrorCode.CERT_REVOKED);
    const vekRevoked = await rejection(async () =>
      verifySnpBytes(s.report, {
        ...base,
        collateral: { ...s.collateral, crl: await fakeCrl('ask', ['0a']) },
      }),
    );
    expect(vekRevoked.code).toBe(ErrorCode.CERT_REVOKED);
    const stale = await rejection(async () =>
      verifySnpBytes(s.report, {
        ...base,
        collateral: {
          ...s.collateral,
          crl: await fakeCrl('ark', [], new Date('2025-01-01T00:00:00Z'), new Date('2025-02-01T00:00:00Z')),
        },
      }),
    );
    expect(stale.code).toBe(ErrorCode.CRL_EXPIRED);
    const foreign = await rejection(() =>
      verifySnpBytes(s.report, { ...base, collateral: { ...s.collateral, crl: milan.vcek } }),
    );
    expect(foreign.code).toBe(ErrorCode.CRL_INVALID);
  });

  it('verifies an extended report (report ‖ certificate table) and rejects a table with the wrong VCEK', async () => {
    const s = await setup({});
    const table = buildCertTable([
      { guid: GUID.vcek, data: s.vek.der },
      { guid: GUID.ask, data: s.chain.askDer },
      { guid: GUID.ark, data: s.chain.arkDer },
    ]);
    const extended = new Uint8Array([...s.report, ...table, ...new Uint8Array(100)]);
    const evidence = await verifySnpBytes(extended, { at: FAKE_AT, anchors: s.anchors });
    expect(evidence.checks.map((c) => c.id)).toContain('snp.report.signature');
    const other = await setup({});
    const wrong = buildCertTable([
      { guid: GUID.vcek, data: other.vek.der },
      { guid: GUID.ask, data: s.chain.askDer },
    ]);
    const error = await rejection(() =>
      verifySnpBytes(new Uint8Array([...s.report, ...wrong]), { at: FAKE_AT, anchors: s.anchors }),
    );
    expect(error.code).toBe(ErrorCode.SIG_INVALID);
  });
});
