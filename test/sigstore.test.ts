/**
 * Sigstore bundles verified offline with a given trusted root, on the sigstore-conformance suite's
 * bundles: a keyless SLSA provenance in the GitHub Actions shape (mock Fulcio CA, Rekor SET, SCT) and a
 * managed-key in-toto bundle with a custom Rekor key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySigstoreBundle } from '../src/measure/sigstore.js';

const DIR = join(import.meta.dirname, 'vectors', 'measure', 'sigstore');
const read = (name: string) => JSON.parse(readFileSync(join(DIR, name), 'utf8'));
const IDENTITY = {
  subjectAlternativeName:
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};

/**
 * The bundle's RFC 3161 timestamp is from a mock TSA the trusted root does not list; @sigstore/core 3.x
 * throws a TypeError reading its genTime. The test drops it and keeps the Rekor SET as the signing time.
 */
function keylessBundle() {
  const bundle = read('d.stmt.good.sigstore.json');
  bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [];
  return bundle;
}

describe('Sigstore bundle verification (offline trusted root)', () => {
  it('verifies a keyless SLSA provenance bundle and returns its subjects', () => {
    const result = verifySigstoreBundle(keylessBundle(), {
      trustedRoot: read('trusted_root.d.json'),
      identity: IDENTITY,
    });
    expect(result.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(result.subjects).toEqual([
      {
        name: 'pkg:npm/sigstore@2.1.0',
        digest: {
          sha512:
            '90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f',
        },
      },
    ]);
    expect(result.identity).toEqual(IDENTITY);
  });

  it('refuses the wrong identity, a tampered payload or signature, and an empty trusted root', () => {
    const root = read('trusted_root.d.json');
    expect(() =>
      verifySigstoreBundle(keylessBundle(), {
        trustedRoot: root,
        identity: {
          ...IDENTITY,
          subjectAlternativeName: 'https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main',
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'SIG_INVALID' }));
    expect(() =>
      verifySigstoreBundle(keylessBundle(), {
        trustedRoot: root,
        identity: { ...IDENTITY, issuer: 'https://accounts.google.com' },
      }),
    ).toThrow(expect.objectContaining({ code: 'SIG_INVALID' }));
    const tampered = keylessBundle();
    const payload = Buffer.from(tampered.dsseEnvelope.payload, 'base64')
      .toString()
      .replace('sigstore@2.1.0', 'sigstore@6.6.6');
    tampered.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
    expect(() => verifySigstoreBundle(tampered, { trustedRoot: root, identity: IDENTITY })).toThrow(
      expect.objectContaining({ code: 'SIG_INVALID' }),
    );
    const badSig = keylessBundle();
    badSig.dsseEnvelope.signatures[0].sig = badSig.dsseEnvelope.signatures[0].sig.replace(/^ME/, 'MF');
    expect(() => verifySigstoreBundle(badSig, { trustedRoot: root, identity: IDENTITY })).toThrow(
      expect.objectContaining({ code: 'SIG_INVALID' }),
    );
    const empty = { ...root, certificateAuthorities: [], tlogs: [], ctlogs: [] };
    expect(() => verifySigstoreBundle(keylessBundle(), { trustedRoot: empty, identity: IDENTITY })).toThrow(
      expect.objectContaining({ code: 'SIG_INVALID' }),
    );
    expect(() => verifySigstoreBundle(keylessBundle(), { trustedRoot: root })).toThrow(
      expect.objectContaining({ code: 'ARGUMENT_INVALID' }),
    );
  });

  it('turns a library crash on the unmodified bundle into a typed error', () => {
    expect(() =>
      verifySigstoreBundle(read('d.stmt.good.sigstore.json'), {
        trustedRoot: read('trusted_root.d.json'),
        identity: IDENTITY,
      }),
    ).toThrow(expect.objectContaining({ code: 'SIG_INVALID' }));
  });

  it('verifies a managed-key in-toto bundle with its key, and refuses it without', () => {
    const bundle = read('intoto-canonical-log-entry.sigstore.json');
    const trustedRoot = read('intoto-canonical-log-entry.trusted_root.json');
    const key = readFileSync(join(DIR, 'intoto-canonical-log-entry.key.pub'), 'utf8');
    const hint = bundle.verificationMaterial.publicKey.hint;
    const result = verifySigstoreBundle(bundle, {
      trustedRoot,
      publicKeys: { [hint]: key },
      ctlogThreshold: 0,
    });
    expect(result.subjects[0]).toEqual({
      name: 'a.txt',
      digest: { sha256: 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf' },
    });
    expect(result.identity).toBeUndefined();
    expect(() => verifySigstoreBundle(bundle, { trustedRoot, publicKeys: {}, ctlogThreshold: 0 })).toThrow(
      expect.objectContaining({ code: 'SIG_INVALID' }),
    );
  });

  it('refuses input that is not a bundle', () => {
    expect(() =>
      verifySigstoreBundle(
        { mediaType: 'x' },
        { trustedRoot: read('trusted_root.d.json'), identity: IDENTITY },
      ),
    ).toThrow(expect.objectContaining({ code: 'PARSE_MALFORMED' }));
    expect(() => verifySigstoreBundle(keylessBundle(), { trustedRoot: 42, identity: IDENTITY })).toThrow();
  });
});
