/** The node backend builds an imported EC point's SPKI from the fixed RFC 5480 prefix: same bytes as an export. */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { parseQuote } from '../src/platforms/dcap/quote.js';
import { loadVector } from './dcap/helpers.js';

function exportedSpki(curve: 'P-256' | 'P-384', point: Uint8Array): Uint8Array {
  const size = curve === 'P-256' ? 32 : 48;
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: curve,
      x: Buffer.from(point.subarray(1, 1 + size)).toString('base64url'),
      y: Buffer.from(point.subarray(1 + size)).toString('base64url'),
    },
    format: 'jwk',
  });
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

describe('importEcPoint SPKI', () => {
  for (const curve of ['P-256', 'P-384'] as const) {
    it(`${curve}: equals the DER export of the key, for fresh keys`, () => {
      for (let i = 0; i < 8; i++) {
        const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
        const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
        const point = spki.subarray(spki.length - (curve === 'P-256' ? 65 : 97));
        const imported = backend.importEcPoint(curve, point);
        expect(Buffer.from(imported.spki).toString('hex')).toBe(Buffer.from(spki).toString('hex'));
        // The key still accepts what it should: round trip through an SPKI import gives the same bytes.
        expect(backend.importSpki(imported.spki).spki).toEqual(imported.spki);
      }
    });
  }

  it('P-256: equals the export for the attestation keys of real SGX and TDX quotes', () => {
    for (const id of ['sgx/dcapqvl-sgx-v3-00A067110000-2025-06', 'tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06']) {
      const quote = parseQuote(loadVector(id).quote);
      const point = new Uint8Array(65);
      point[0] = 4;
      point.set(quote.attestationKey, 1);
      expect(backend.importEcPoint('P-256', point).spki, id).toEqual(exportedSpki('P-256', point));
    }
  });

  it('refuses a point that is not on the curve', () => {
    const point = new Uint8Array(65);
    point[0] = 4;
    point[64] = 1;
    expect(() => backend.importEcPoint('P-256', point)).toThrow();
  });
});
