import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../src/errors.js';
import { parseCertificate } from '../src/pki/certificate.js';
import { makeTrustAnchor } from '../src/pki/chain.js';
import { parseNitroEvidence, verifyNitroEvidence } from '../src/platforms/nitro/index.js';
import { verify } from '../src/verify.js';
import { genuineNitroVectors, nitroVectors } from './helpers/vectors.js';

const atOf = (vector: { expected: { verification_time: { unix_ms: number } } }) =>
  new Date(vector.expected.verification_time.unix_ms);

async function rejection(promise: Promise<unknown>): Promise<VeriteeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VeriteeError);
    return error as VeriteeError;
  }
  throw new Error('expected a rejection');
}

describe('Nitro: every real vector at its pinned time', () => {
  for (const vector of nitroVectors()) {
    it(vector.id, async () => {
      const result = await verify(vector.bytes, { at: atOf(vector) });
      const genuine = vector.expected.independent_checks.root_is_aws_nitro_g1;
      expect(result.platform).toBe('nitro');
      expect(result.verified).toBe(genuine);
      if (!genuine) {
        expect(result.errors[0]?.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
        expect(result.verdict).toBe('contraindicated');
        return;
      }
      const parsed = vector.expected.parsed;
      for (const [index, value] of Object.entries(parsed.pcrs))
        expect(result.measurements[`pcr${index}`]).toBe(value);
      expect(Object.keys(result.measurements)).toHaveLength(Object.keys(parsed.pcrs).length);
      const debug = ['0', '1', '2'].every((i) => /^0+$/.test(parsed.pcrs[i]!));
      expect(result.debug).toBe(debug);
      // Default policy: verification decides, debug enclaves are contraindicated.
      expect(result.verdict).toBe(debug ? 'contraindicated' : 'affirming');
      expect(result.claims.moduleId).toBe(parsed.module_id);
      expect(result.claims.timestampMs).toBe(parsed.timestamp_ms);
      expect(result.userData ?? null).toBe(parsed.user_data);
      expect(result.publicKey ?? null).toBe(parsed.public_key);
      expect(result.nonce ?? null).toBe(parsed.nonce);
      const chain = result.claims.certificates as { sha256: string; notAfter: string }[];
      expect(chain.map((c) => c.sha256)).toEqual(
        vector.expected.certificate_chain.map((c) => c.sha256).reverse(),
      );
      expect(result.validUntil).toBe(
        new Date(vector.expected.validity_window.not_after_unix_ms).toISOString(),
      );
    });
  }

  it('debug documents pass when the policy allows debug', async () => {
    const vector = genuineNitroVectors().find((v) => v.id === 'evervault-beta-debug-2022-10-12')!;
    const result = await verify(vector.bytes, {
      at: atOf(vector),
      policy: { allowDebug: true, sections: {} },
    });
    expect(result.verdict).toBe('affirming');
    expect(result.debug).toBe(true);
  });
});

describe('Nitro: time', () => {
  for (const vector of genuineNitroVectors()) {
    it(`${vector.id} is rejected before its leaf is issued and after it expires`, async () => {
      const evidence = parseNitroEvidence(vector.bytes);
      const window = vector.expected.validity_window;
      const before = await rejection(
        verifyNitroEvidence(evidence, { at: new Date(window.not_before_unix_ms - 1000) }),
      );
      expect(before.code).toBe(ErrorCode.CERT_NOT_YET_VALID);
      const after = await rejection(
        verifyNitroEvidence(evidence, { at: new Date(window.not_after_unix_ms + 1000) }),
      );
      expect(after.code).toBe(ErrorCode.CERT_EXPIRED);
      expect(after.message).toContain('has expired');
      // The edges themselves are inside the window.
      await verifyNitroEvidence(evidence, { at: new Date(window.not_after_unix_ms) });
    });
  }
});

describe('Nitro: trust anchors', () => {
  it('mock-CA documents verify only when their mock root is passed explicitly', async () => {
    for (const vector of nitroVectors().filter((v) => !v.expected.independent_checks.root_is_aws_nitro_g1)) {
      const evidence = parseNitroEvidence(vector.bytes);
      const error = await rejection(verifyNitroEvidence(evidence, { at: atOf(vector) }));
      expect(error.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
      const mockRoot = parseCertificate(evidence.document.cabundle[0]!);
      const anchor = await makeTrustAnchor('marlin mock root', mockRoot);
      const verified = await verifyNitroEvidence(evidence, { at: atOf(vector), anchors: [anchor] });
      expect(verified.claims.measurements.pcr1).toBe('01'.repeat(48));
    }
  });

  it('a genuine document is rejected under a foreign anchor', async () => {
    const [genuine] = genuineNitroVectors();
    const mock = nitroVectors().find((v) => v.id.startsWith('marlin-mock'))!;
    const anchor = await makeTrustAnchor(
      'mock',
      parseCertificate(parseNitroEvidence(mock.bytes).document.cabundle[0]!),
    );
    const error = await rejection(
      verifyNitroEvidence(parseNitroEvidence(genuine!.bytes), { at: atOf(genuine!), anchors: [anchor] }),
    );
    expect(error.code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
  });
});

describe('Nitro: COSE envelope', () => {
  it('accepts the tagged form (tag 18) and reports it', async () => {
    const [vector] = genuineNitroVectors();
    const tagged = new Uint8Array([0xd2, ...vector!.bytes]);
    const result = await verify(tagged, { at: atOf(vector!) });
    expect(result.verified).toBe(true);
    expect(result.claims.coseTagged).toBe(true);
  });

  it('rejects another tag', async () => {
    const [vector] = genuineNitroVectors();
    const result = await verify(new Uint8Array([0xd1, ...vector!.bytes]), { at: atOf(vector!) });
    expect(result.errors[0]?.code).toBe(ErrorCode.FORMAT_UNKNOWN);
    expect(() => parseNitroEvidence(new Uint8Array([0xd1, ...vector!.bytes]))).toThrow(/not COSE_Sign1/);
  });

  it('accepts base64 and hex text with whitespace', async () => {
    const [vector] = genuineNitroVectors();
    const base64 = Buffer.from(vector!.bytes)
      .toString('base64')
      .replace(/(.{76})/g, '$1\n');
    const hex = ` ${Buffer.from(vector!.bytes).toString('hex')}\n`;
    for (const text of [base64, hex]) {
      const result = await verify(text, { at: atOf(vector!) });
      expect(result.verified).toBe(true);
    }
  });
});
