import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../src/bytes.js';
import { ErrorCode, VeriteeError } from '../src/errors.js';
import { type Certificate, parseCertificate, parsePemCertificates } from '../src/pki/certificate.js';
import { makeTrustAnchor, verifyChain } from '../src/pki/chain.js';
import { checkNotRevoked, parseCrl, verifyCrl } from '../src/pki/crl.js';
import * as embedded from '../src/pki/embedded.js';
import {
  AWS_NITRO_ROOT_G1,
  INTEL_SGX_ROOT_CA,
  loadPinnedCertificate,
  pinnedAnchor,
} from '../src/pki/index.js';
import { parseNitroEvidence } from '../src/platforms/nitro/index.js';
import { nitroVectors, VECTORS } from './helpers/vectors.js';

const pki = (name: string) => new Uint8Array(readFileSync(join(VECTORS, 'pki', name)));

describe('pinned roots', () => {
  it('every embedded certificate matches its pin and the PEM file in roots/', () => {
    for (const value of Object.values(embedded)) {
      if (typeof value !== 'object' || value === null || !('pem' in value)) continue;
      const certificate = loadPinnedCertificate(value);
      expect(certificate.fingerprint).toBe(value.sha256);
      const file = readFileSync(join(import.meta.dirname, '..', 'roots', `${value.id}.pem`), 'utf8');
      expect(file.trim()).toBe(value.pem.trim());
    }
  });

  // pinnedAnchor trusts the pinned bytes without re-verifying the self-signature at run time; this is
  // where that signature is checked, once, for every embedded root.
  it('every embedded root is self-signed with a valid signature', async () => {
    let roots = 0;
    for (const value of Object.values(embedded)) {
      if (typeof value !== 'object' || value === null || !('pem' in value)) continue;
      const certificate = loadPinnedCertificate(value);
      if (!equalBytes(certificate.issuerDer, certificate.subjectDer)) continue;
      await expect(makeTrustAnchor(value.name, certificate)).resolves.toMatchObject({ certificate });
      await expect(pinnedAnchor(value)).resolves.toMatchObject({ certificate });
      roots++;
    }
    expect(roots).toBe(5); // AWS G1, Intel SGX Root CA, the Milan, Genoa and Turin ARKs
  });

  it('refuses an embedded certificate that is not self-issued as a pinned anchor', async () => {
    await expect(pinnedAnchor(embedded.AMD_MILAN_ASK)).rejects.toMatchObject({
      code: ErrorCode.CHAIN_UNTRUSTED_ROOT,
    });
  });

  it('the AWS root is G1 with the fingerprint AWS publishes', async () => {
    const anchor = await pinnedAnchor(AWS_NITRO_ROOT_G1);
    expect(anchor.certificate.fingerprint).toBe(
      '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
    );
    expect(anchor.certificate.subject).toBe('C=US, O=Amazon, OU=AWS, CN=aws.nitro-enclaves');
  });

  it('refuses an embedded certificate whose pin does not match', () => {
    const tampered = { ...AWS_NITRO_ROOT_G1, sha256: '00'.repeat(32) };
    expect(() => loadPinnedCertificate(tampered)).toThrow(
      expect.objectContaining({ code: ErrorCode.ROOT_PIN_MISMATCH }),
    );
  });

  it('refuses a non-self-signed certificate as an anchor', async () => {
    const [vector] = nitroVectors();
    const leaf = parseCertificate(parseNitroEvidence(vector!.bytes).document.certificate);
    await expect(makeTrustAnchor('leaf', leaf)).rejects.toMatchObject({
      code: ErrorCode.CHAIN_UNTRUSTED_ROOT,
    });
  });
});

describe('certificate parser agrees with @peculiar/x509 on every real certificate', () => {
  const certificates: Uint8Array[] = [];
  for (const vector of nitroVectors()) {
    const { document } = parseNitroEvidence(vector.bytes);
    certificates.push(document.certificate, ...document.cabundle);
  }
  for (const value of Object.values(embedded)) {
    if (typeof value === 'object' && value !== null && 'pem' in value)
      certificates.push(loadPinnedCertificate(value).der);
  }
  it(`parses ${certificates.length} certificates identically`, () => {
    for (const der of certificates) {
      const ours = parseCertificate(der);
      const theirs = new x509.X509Certificate(Buffer.from(der));
      expect(ours.notBefore.getTime()).toBe(theirs.notBefore.getTime());
      expect(ours.notAfter.getTime()).toBe(theirs.notAfter.getTime());
      expect(ours.serialNumber).toBe(theirs.serialNumber.toLowerCase());
      expect(Buffer.from(ours.tbs)).toEqual(Buffer.from((theirs as unknown as { tbs: ArrayBuffer }).tbs));
      expect(Buffer.from(ours.spki)).toEqual(Buffer.from(theirs.publicKey.rawData));
      const basic = theirs.getExtension(x509.BasicConstraintsExtension);
      expect(ours.isCa).toBe(basic === null ? undefined : basic.ca);
    }
  });
});

describe('certificate parser rejects malformed DER with CERT_MALFORMED', () => {
  const der = loadPinnedCertificate(INTEL_SGX_ROOT_CA).der;
  it('every truncation', () => {
    for (let length = 0; length < der.length; length++) {
      expect(() => parseCertificate(der.subarray(0, length))).toThrow(VeriteeError);
    }
  });
  it('a non-minimal length and trailing bytes', () => {
    const trailing = new Uint8Array([...der, 0]);
    expect(() => parseCertificate(trailing)).toThrow(
      expect.objectContaining({ code: ErrorCode.CERT_MALFORMED }),
    );
  });
  it('garbage', () => {
    expect(() => parseCertificate(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(/indefinite/);
    expect(() => parseCertificate(new TextEncoder().encode('not a certificate'))).toThrow(VeriteeError);
  });
});

describe('CRLs (real Intel CRLs)', () => {
  const rootCa = loadPinnedCertificate(INTEL_SGX_ROOT_CA);
  const [platformCa] = parsePemCertificates(
    readFileSync(join(VECTORS, 'pki', 'platform_pck_crl_issuer_chain.pem'), 'utf8'),
  );
  const rootCrl = parseCrl(pki('root_ca_crl.der'));
  const platformCrl = parseCrl(pki('platform_pck_crl.der'));

  it('parses issuer, dates and revoked serials', () => {
    expect(rootCrl.issuer).toContain('CN=Intel SGX Root CA');
    expect(rootCrl.revokedSerials.size).toBe(0);
    expect(platformCrl.issuer).toContain('CN=Intel SGX PCK Platform CA');
    expect(platformCrl.revokedSerials.has('6fc34e5023e728923435d61aa4b83c618166ad35')).toBe(true);
    expect(platformCrl.thisUpdate.toISOString()).toBe('2025-06-19T10:00:35.000Z');
  });

  it('verifies against its issuer inside its window only', async () => {
    await expect(verifyCrl(rootCrl, rootCa, { at: new Date('2025-07-01T00:00:00Z') })).resolves.toEqual(
      rootCrl.nextUpdate,
    );
    await expect(verifyCrl(rootCrl, rootCa, { at: new Date('2025-03-01T00:00:00Z') })).rejects.toMatchObject({
      code: ErrorCode.CRL_NOT_YET_VALID,
    });
    await expect(verifyCrl(rootCrl, rootCa, { at: new Date('2026-05-01T00:00:00Z') })).rejects.toMatchObject({
      code: ErrorCode.CRL_EXPIRED,
    });
    const grace = { at: new Date('2026-04-04T00:00:00Z'), graceMs: 2 * 86_400_000 };
    await expect(verifyCrl(rootCrl, rootCa, grace)).resolves.toBeDefined();
    await expect(
      verifyCrl(platformCrl, platformCa!, { at: new Date('2025-07-01T00:00:00Z') }),
    ).resolves.toBeDefined();
  });

  it('rejects a CRL checked against the wrong issuer, and a tampered one', async () => {
    await expect(
      verifyCrl(platformCrl, rootCa, { at: new Date('2025-07-01T00:00:00Z') }),
    ).rejects.toMatchObject({ code: ErrorCode.CRL_ISSUER_MISMATCH });
    const bytes = pki('root_ca_crl.der');
    bytes[bytes.length - 5]! ^= 1;
    await expect(
      verifyCrl(parseCrl(bytes), rootCa, { at: new Date('2025-07-01T00:00:00Z') }),
    ).rejects.toMatchObject({ code: ErrorCode.SIG_INVALID });
  });

  it('finds a revoked serial', () => {
    const revoked = {
      subject: 'CN=test',
      issuerDer: platformCrl.issuerDer,
      serialNumber: '6fc34e5023e728923435d61aa4b83c618166ad35',
    } as Certificate;
    expect(() => checkNotRevoked(revoked, platformCrl, 'pck')).toThrow(
      expect.objectContaining({ code: ErrorCode.CERT_REVOKED }),
    );
    expect(() => checkNotRevoked({ ...revoked, serialNumber: '01' }, platformCrl, 'pck')).not.toThrow();
    expect(() => checkNotRevoked(revoked, rootCrl, 'pck')).toThrow(
      expect.objectContaining({ code: ErrorCode.CRL_ISSUER_MISMATCH }),
    );
  });

  it('every truncation of a CRL is CRL_INVALID', () => {
    const bytes = pki('platform_pck_crl.der');
    for (let length = 0; length < bytes.length; length += 7) {
      expect(() => parseCrl(bytes.subarray(0, length))).toThrow(
        expect.objectContaining({ code: ErrorCode.CRL_INVALID }),
      );
    }
  });
});

describe('chain validation', () => {
  it('needs a non-empty path ending at an anchor', async () => {
    const anchor = await pinnedAnchor(AWS_NITRO_ROOT_G1);
    await expect(verifyChain([], { at: new Date(), anchors: [anchor] })).rejects.toMatchObject({
      code: ErrorCode.CHAIN_EMPTY,
    });
    const intel = loadPinnedCertificate(INTEL_SGX_ROOT_CA);
    await expect(verifyChain([intel], { at: new Date(), anchors: [anchor] })).rejects.toMatchObject({
      code: ErrorCode.CHAIN_UNTRUSTED_ROOT,
    });
    await expect(
      verifyChain(Array(9).fill(intel), { at: new Date(), anchors: [anchor] }),
    ).rejects.toMatchObject({ code: ErrorCode.CHAIN_TOO_LONG });
  });
});

describe('verified-link cache', () => {
  it('re-verifies only what it has not seen, and never serves a link past its expiry', async () => {
    const { backend } = await import('#crypto');
    const { vi } = await import('vitest');
    const { clearChainCache } = await import('../src/pki/chain.js');
    const { verifyNitroEvidence } = await import('../src/platforms/nitro/index.js');
    const [a, b] = nitroVectors().filter((v) => v.id.startsWith('marlin-aws'));
    const spy = vi.spyOn(backend, 'verify');
    try {
      clearChainCache();
      await pinnedAnchor(AWS_NITRO_ROOT_G1);
      const at = new Date(a!.expected.verification_time.unix_ms);
      const evidence = parseNitroEvidence(a!.bytes);
      spy.mockClear();
      await verifyNitroEvidence(evidence, { at });
      expect(spy).toHaveBeenCalledTimes(5); // four links and the COSE signature
      spy.mockClear();
      await verifyNitroEvidence(evidence, { at });
      expect(spy).toHaveBeenCalledTimes(1); // only the COSE signature
      spy.mockClear();
      // Past the leaf's expiry the chain is refused before any cached link could be consulted.
      const late = new Date(a!.expected.validity_window.not_after_unix_ms + 1000);
      await expect(verifyNitroEvidence(evidence, { at: late })).rejects.toMatchObject({
        code: ErrorCode.CERT_EXPIRED,
      });
      expect(spy).toHaveBeenCalledTimes(0);
      spy.mockClear();
      await verifyNitroEvidence(parseNitroEvidence(b!.bytes), {
        at: new Date(b!.expected.verification_time.unix_ms),
      });
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      spy.mockRestore();
    }
  });
});
