/** DSSE + in-toto release records: signing, verification, and every refusal the issue lists. */
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8Encode } from '../src/bytes.js';
import {
  buildReleaseStatement,
  type DsseEnvelope,
  pae,
  parseEnvelope,
  publicJwkOf,
  releaseCovers,
  serializeEnvelope,
  signRelease,
  trustedKeyFromJwk,
  verifyRelease,
} from '../src/measure/release.js';
import { PREDICATE, privateJwk } from './helpers/keys.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit parsed JSON freely
type Loose = Record<string, any>;

function withPayload(envelope: DsseEnvelope, edit: (statement: Loose) => void): DsseEnvelope {
  const statement = JSON.parse(new TextDecoder().decode(envelope.payload));
  edit(statement);
  return { ...envelope, payload: utf8Encode(JSON.stringify(statement)) };
}

describe('DSSE', () => {
  it('PAE matches the DSSE protocol example', () => {
    expect(new TextDecoder().decode(pae('http://example.com/HelloWorld', utf8Encode('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('round-trips an envelope through JSON and rejects unknown fields and bad base64', () => {
    const envelope = {
      payloadType: 'x',
      payload: utf8Encode('{}'),
      signatures: [{ keyid: 'k', sig: Uint8Array.of(1, 2) }],
    };
    const parsed = parseEnvelope(utf8Encode(serializeEnvelope(envelope)));
    expect(parsed).toEqual(envelope);
    expect(() => parseEnvelope({ ...JSON.parse(serializeEnvelope(envelope)), extra: 1 })).toThrow(
      expect.objectContaining({ code: 'PARSE_UNKNOWN_FIELD' }),
    );
    expect(() => parseEnvelope({ payloadType: 'x', payload: '!!', signatures: [{ sig: 'AA==' }] })).toThrow(
      expect.objectContaining({ code: 'PARSE_ENCODING' }),
    );
    expect(() => parseEnvelope({ payloadType: 'x', payload: '', signatures: [] })).toThrow(
      expect.objectContaining({ code: 'PARSE_INVALID_VALUE' }),
    );
    expect(() => parseEnvelope(utf8Encode('{'))).toThrow(expect.objectContaining({ code: 'PARSE_ENCODING' }));
  });
});

describe('release records', () => {
  for (const kind of ['ed25519', 'p256'] as const) {
    it(`signs and verifies with ${kind}`, async () => {
      const jwk = privateJwk(kind);
      const key = trustedKeyFromJwk(publicJwkOf(jwk));
      const envelope = await signRelease(PREDICATE, jwk);
      expect(envelope.signatures[0]!.keyid).toBe(key.keyid);
      const anonymous = { ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid: '' }] };
      expect(
        (await verifyRelease(anonymous, [trustedKeyFromJwk(publicJwkOf(privateJwk(kind))), key])).signer,
      ).toBe(key.keyid);
      const verified = await verifyRelease(parseEnvelope(utf8Encode(serializeEnvelope(envelope))), [key]);
      expect(verified.signer).toBe(key.keyid);
      expect(verified.predicate).toEqual(PREDICATE);
      expect(verified.subject.map((s) => s.name)).toEqual([
        'nitro/pcr0',
        'nitro/pcr1',
        'nitro/pcr2',
        'tdx/mrtd',
        'tdx/rtmr3',
      ]);
      expect(verified.subject[0]!.digest).toEqual({ sha384: '1'.repeat(96) });
      expect(
        releaseCovers(verified, 'nitro', {
          pcr0: '1'.repeat(96),
          pcr1: '2'.repeat(96),
          pcr2: '3'.repeat(96),
          pcr8: '9'.repeat(96),
        }),
      ).toBe(true);
      expect(
        releaseCovers(verified, 'nitro', {
          pcr0: '1'.repeat(96),
          pcr1: '2'.repeat(96),
          pcr2: '0'.repeat(96),
        }),
      ).toBe(false);
      expect(releaseCovers(verified, 'sev-snp', {})).toBe(false);
    });
  }

  it('refuses a tampered record (SIG_INVALID)', async () => {
    const jwk = privateJwk('ed25519');
    const key = trustedKeyFromJwk(publicJwkOf(jwk));
    const envelope = await signRelease(PREDICATE, jwk);
    const tampered = withPayload(envelope, (s) => (s.predicate.measurements.nitro.pcr0 = '0'.repeat(96)));
    await expect(verifyRelease(tampered, [key])).rejects.toMatchObject({ code: 'SIG_INVALID' });
    const flipped = {
      ...envelope,
      signatures: [
        { ...envelope.signatures[0]!, sig: envelope.signatures[0]!.sig.map((b, i) => (i === 0 ? b ^ 1 : b)) },
      ],
    };
    await expect(verifyRelease(flipped, [key])).rejects.toMatchObject({ code: 'SIG_INVALID' });
    await expect(
      verifyRelease({ ...envelope, payloadType: 'application/json' }, [key]),
    ).rejects.toMatchObject({ code: 'PARSE_INVALID_VALUE' });
  });

  it('refuses a record by the wrong signer, even when its key id claims a trusted key', async () => {
    const trusted = trustedKeyFromJwk(publicJwkOf(privateJwk('p256')));
    const envelope = await signRelease(PREDICATE, privateJwk('p256'));
    await expect(verifyRelease(envelope, [trusted])).rejects.toMatchObject({ code: 'SIG_INVALID' });
    const impersonating = { ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid: trusted.keyid }] };
    await expect(verifyRelease(impersonating, [trusted])).rejects.toMatchObject({ code: 'SIG_INVALID' });
    await expect(verifyRelease(envelope, [])).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    // An empty key id is tried against every trusted key; only a real signature by one of them counts.
    const anonymous = { ...envelope, signatures: [{ ...envelope.signatures[0]!, keyid: '' }] };
    await expect(verifyRelease(anonymous, [trusted])).rejects.toMatchObject({ code: 'SIG_INVALID' });
  });

  it('validates the statement strictly', async () => {
    const jwk = privateJwk('ed25519');
    const key = trustedKeyFromJwk(publicJwkOf(jwk));
    const sign = async (edit: (s: Loose) => void) => {
      const statement = JSON.parse(new TextDecoder().decode(buildReleaseStatement(PREDICATE)));
      edit(statement);
      const payload = utf8Encode(JSON.stringify(statement));
      const { backend } = await import('#crypto');
      const sig = await backend.sign(jwk, { kind: 'ed25519' }, pae('application/vnd.in-toto+json', payload));
      return verifyRelease(
        { payloadType: 'application/vnd.in-toto+json', payload, signatures: [{ keyid: key.keyid, sig }] },
        [key],
      ).then(
        () => 'accepted',
        (error) => error.code,
      );
    };
    expect(await sign(() => {})).toBe('accepted');
    expect(await sign((s) => (s._type = 'https://in-toto.io/Statement/v0.1'))).toBe('PARSE_INVALID_VALUE');
    expect(await sign((s) => (s.predicateType = 'https://slsa.dev/provenance/v1'))).toBe(
      'PARSE_INVALID_VALUE',
    );
    expect(await sign((s) => s.subject.pop())).toBe('PARSE_INVALID_VALUE');
    expect(await sign((s) => (s.subject[0].digest.sha384 = '0'.repeat(96)))).toBe('PARSE_INVALID_VALUE');
    expect(await sign((s) => (s.predicate.commit = 'main'))).toBe('PARSE_INVALID_VALUE');
    expect(await sign((s) => (s.predicate.repository = 'http://github.com/x/y'))).toBe('PARSE_INVALID_VALUE');
    expect(await sign((s) => (s.predicate.extra = 1))).toBe('PARSE_UNKNOWN_FIELD');
    expect(await sign((s) => (s.predicate.measurements.nitro.pcr0 = 'ABC'))).toBe('PARSE_INVALID_VALUE');
    expect(await sign((s) => (s.predicate.measurements.windows = {}))).toBe('PARSE_UNKNOWN_FIELD');
    expect(await sign((s) => delete s.predicate.buildRecipe)).toBe('PARSE_MISSING_FIELD');
  });

  it('refuses private or unsupported keys', () => {
    expect(() => trustedKeyFromJwk(privateJwk('ed25519'))).toThrow(
      expect.objectContaining({ code: 'KEY_INVALID' }),
    );
    expect(() => trustedKeyFromJwk({ kty: 'EC', crv: 'P-384', x: toBase64(new Uint8Array(48)) })).toThrow();
    expect(fromBase64('AA==')).toEqual(Uint8Array.of(0));
  });
});
