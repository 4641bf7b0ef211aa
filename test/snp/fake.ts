/**
 * A fake AMD chain and report builder for tests: an ECDSA P-384 "ARK" and "ASK" (AMD's are RSA-PSS; the
 * real vectors cover that), a VCEK or VLEK carrying AMD's extensions with any values, and reports signed by
 * it. Everything built here verifies only under the fake ARK passed explicitly as an anchor.
 */
import 'reflect-metadata';
import {
  BasicConstraintsExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509CertificateGenerator,
  X509CrlGenerator,
} from '@peculiar/x509';
import { parseCertificate } from '../../src/pki/certificate.js';
import { makeTrustAnchor, type TrustAnchor } from '../../src/pki/chain.js';
import { AmdOid, type Product, REPORT_SIZE, SIGNED_SIZE } from '../../src/platforms/snp/index.js';

const subtle = globalThis.crypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-384' } as const;

export interface FakeTcb {
  readonly fmc?: number;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
}

export interface FakeVekOptions {
  readonly kind?: 'vcek' | 'vlek';
  readonly productName?: string | undefined;
  readonly tcb: FakeTcb;
  /** hwID bytes (VCEK); `wrap` puts them in an OCTET STRING. */
  readonly hwId?: Uint8Array;
  readonly wrapHwId?: boolean;
  readonly serialNumber?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Extra or replacement extensions. */
  readonly extraExtensions?: Extension[];
  /** Skip these AMD extension OIDs. */
  readonly omit?: readonly string[];
}

export interface FakeChain {
  readonly arkDer: Uint8Array;
  readonly askDer: Uint8Array;
  readonly arkKeys: CryptoKeyPair;
  readonly askKeys: CryptoKeyPair;
  readonly anchor: TrustAnchor;
  /** ASK then ARK, PEM. */
  readonly chainPem: string;
}

export interface FakeVek {
  readonly der: Uint8Array;
  readonly keys: CryptoKeyPair;
}

const NOT_BEFORE = new Date('2024-01-01T00:00:00Z');
const NOT_AFTER = new Date('2031-01-01T00:00:00Z');
export const FAKE_AT = new Date('2025-06-01T00:00:00Z');

function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

async function generate(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

let chainCache: Promise<FakeChain> | undefined;

/** One fake ARK → ASK chain per test process. */
export function fakeChain(): Promise<FakeChain> {
  chainCache ??= (async () => {
    const arkKeys = await generate();
    const askKeys = await generate();
    const caExtensions = (): Extension[] => [
      new BasicConstraintsExtension(true, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
    ];
    const ark = await X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=ARK-Test, O=veritee test',
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      keys: arkKeys,
      signingAlgorithm: SIGN,
      extensions: caExtensions(),
    });
    const ask = await X509CertificateGenerator.create({
      serialNumber: '02',
      subject: 'CN=SEV-Test, O=veritee test',
      issuer: ark.subject,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      publicKey: askKeys.publicKey,
      signingKey: arkKeys.privateKey,
      signingAlgorithm: SIGN,
      extensions: caExtensions(),
    });
    const arkDer = new Uint8Array(ark.rawData);
    const askDer = new Uint8Array(ask.rawData);
    const anchor = await makeTrustAnchor('Test ARK', parseCertificate(arkDer));
    return { arkDer, askDer, arkKeys, askKeys, anchor, chainPem: toPem(askDer) + toPem(arkDer) };
  })();
  return chainCache;
}

function derInteger(value: number): Uint8Array<ArrayBuffer> {
  return value < 0x80 ? new Uint8Array([0x02, 0x01, value]) : new Uint8Array([0x02, 0x02, 0x00, value]);
}

function derIa5(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  return new Uint8Array([0x16, bytes.length, ...bytes]);
}

/** Issues a VCEK or VLEK under the fake ASK. */
export async function fakeVek(options: FakeVekOptions): Promise<FakeVek> {
  const chain = await fakeChain();
  const keys = await generate();
  const kind = options.kind ?? 'vcek';
  const omit = new Set(options.omit ?? []);
  const ext = (oid: string, value: Uint8Array): Extension | undefined =>
    omit.has(oid) ? undefined : new Extension(oid, false, value.slice());
  const { tcb } = options;
  const extensions = [
    ext(AmdOid.structVersion, derInteger(0)),
    options.productName === undefined ? undefined : ext(AmdOid.productName, derIa5(options.productName)),
    ext(AmdOid.blSpl, derInteger(tcb.bootloader)),
    ext(AmdOid.teeSpl, derInteger(tcb.tee)),
    ext(AmdOid.snpSpl, derInteger(tcb.snp)),
    ext(AmdOid.spl4, derInteger(0)),
    ext(AmdOid.spl5, derInteger(0)),
    ext(AmdOid.spl6, derInteger(0)),
    ext(AmdOid.spl7, derInteger(0)),
    ext(AmdOid.ucodeSpl, derInteger(tcb.microcode)),
    tcb.fmc === undefined ? undefined : ext(AmdOid.fmcSpl, derInteger(tcb.fmc)),
    kind === 'vcek' && options.hwId !== undefined
      ? ext(
          AmdOid.hwId,
          options.wrapHwId === true
            ? new Uint8Array([0x04, options.hwId.length, ...options.hwId])
            : options.hwId,
        )
      : undefined,
    kind === 'vlek' ? ext(AmdOid.cspId, derIa5('CN=test.example')) : undefined,
    ...(options.extraExtensions ?? []),
  ].filter((e): e is Extension => e !== undefined);
  const askCert = parseCertificate(chain.askDer);
  const vek = await X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? '0a', // (@peculiar/x509 replaces '00' with a random serial)
    subject: kind === 'vcek' ? 'CN=SEV-VCEK, O=veritee test' : 'CN=SEV-VLEK, O=veritee test',
    issuer: askCert.subject,
    notBefore: options.notBefore ?? NOT_BEFORE,
    notAfter: options.notAfter ?? NOT_AFTER,
    publicKey: keys.publicKey,
    signingKey: chain.askKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions,
  });
  return { der: new Uint8Array(vek.rawData), keys };
}

export interface FakeReportFields {
  readonly version?: number;
  readonly product: Product;
  readonly tcb: FakeTcb;
  readonly currentTcb?: FakeTcb;
  readonly launchTcb?: FakeTcb;
  readonly chipId?: Uint8Array;
  readonly signingKey?: 'vcek' | 'vlek';
  readonly policy?: bigint;
  readonly vmpl?: number;
  readonly reportData?: Uint8Array;
  readonly measurement?: Uint8Array;
  readonly hostData?: Uint8Array;
  readonly guestSvn?: number;
}

/** Encodes a TCB_VERSION with the product's layout (ABI spec Table 3). */
export function encodeTcb(tcb: FakeTcb, product: Product): Uint8Array {
  const out = new Uint8Array(8);
  if (product === 'Turin') {
    out[0] = tcb.fmc ?? 0;
    out[1] = tcb.bootloader;
    out[2] = tcb.tee;
    out[3] = tcb.snp;
  } else {
    out[0] = tcb.bootloader;
    out[1] = tcb.tee;
    out[6] = tcb.snp;
  }
  out[7] = tcb.microcode;
  return out;
}

const CPUID: Record<Product, [number, number, number]> = {
  Milan: [0x19, 0x01, 0x01],
  Genoa: [0x19, 0x11, 0x01],
  Turin: [0x1a, 0x02, 0x00],
};

/** Builds report bytes (unsigned: signature fields zero). */
export function buildReport(fields: FakeReportFields): Uint8Array {
  const out = new Uint8Array(REPORT_SIZE);
  const view = new DataView(out.buffer);
  const version = fields.version ?? 3;
  view.setUint32(0x00, version, true);
  view.setUint32(0x04, fields.guestSvn ?? 1, true);
  view.setBigUint64(0x08, fields.policy ?? 0x30000n, true);
  view.setUint32(0x30, fields.vmpl ?? 0, true);
  view.setUint32(0x34, 1, true);
  out.set(encodeTcb(fields.currentTcb ?? fields.tcb, fields.product), 0x38);
  view.setBigUint64(0x40, 1n, true);
  view.setUint32(0x48, (fields.signingKey ?? 'vcek') === 'vlek' ? 4 : 0, true);
  out.set(fields.reportData ?? new Uint8Array(64).fill(0xaa), 0x50);
  out.set(fields.measurement ?? new Uint8Array(48).fill(0xbb), 0x90);
  if (fields.hostData !== undefined) out.set(fields.hostData, 0xc0);
  out.set(encodeTcb(fields.tcb, fields.product), 0x180);
  if (version >= 3) out.set(CPUID[fields.product], 0x188);
  if (fields.chipId !== undefined) out.set(fields.chipId, 0x1a0);
  out.set(encodeTcb(fields.tcb, fields.product), 0x1e0);
  out.set([4, 55, 1], 0x1e8);
  out.set([4, 55, 1], 0x1ec);
  out.set(encodeTcb(fields.launchTcb ?? fields.tcb, fields.product), 0x1f0);
  return out;
}

/** Signs `report` in place with `key` (ECDSA P-384/SHA-384, r and s little-endian in 72-byte fields). */
export async function signReport(report: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
  const signature = new Uint8Array(await subtle.sign(SIGN, key, report.slice(0, SIGNED_SIZE)));
  const out = report.slice();
  out.fill(0, SIGNED_SIZE);
  for (let i = 0; i < 48; i++) {
    out[SIGNED_SIZE + i] = signature[47 - i]!;
    out[SIGNED_SIZE + 72 + i] = signature[95 - i]!;
  }
  return out;
}

/** Issues a CRL from the fake ARK (or ASK) revoking the given serials. */
export async function fakeCrl(
  by: 'ark' | 'ask',
  revoked: readonly string[],
  thisUpdate = new Date('2025-05-01T00:00:00Z'),
  nextUpdate = new Date('2025-07-01T00:00:00Z'),
): Promise<Uint8Array> {
  const chain = await fakeChain();
  const issuer = parseCertificate(by === 'ark' ? chain.arkDer : chain.askDer).subject;
  const crl = await X509CrlGenerator.create({
    issuer,
    thisUpdate,
    nextUpdate,
    signingAlgorithm: SIGN,
    signingKey: (by === 'ark' ? chain.arkKeys : chain.askKeys).privateKey,
    entries: revoked.map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate })),
  });
  return new Uint8Array(crl.rawData);
}

/** Builds a certificate table (GUID entries then the blobs) for an extended report. */
export function buildCertTable(entries: ReadonlyArray<{ guid: string; data: Uint8Array }>): Uint8Array {
  const tableSize = (entries.length + 1) * 24;
  const total = tableSize + entries.reduce((sum, e) => sum + e.data.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = tableSize;
  entries.forEach((entry, index) => {
    out.set(Buffer.from(entry.guid.replaceAll('-', ''), 'hex'), index * 24);
    view.setUint32(index * 24 + 16, offset, true);
    view.setUint32(index * 24 + 20, entry.data.length, true);
    out.set(entry.data, offset);
    offset += entry.data.length;
  });
  return out;
}

export const GUID = {
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
} as const;
