/** Every KMS decoder is total: arbitrary input yields a value or a VeriteeError, never another exception. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VeriteeError } from '../../src/errors.js';
import { parseAuditEntry } from '../../src/kms/audit.js';
import { canonicalJson, fromB64u } from '../../src/kms/codec.js';
import {
  parseCountersigned,
  parseCreateRequest,
  parseEpochRecord,
  parseRecoverRequest,
  parseRetire,
  parseSealedBump,
  parseSignedPolicyChange,
} from '../../src/kms/messages.js';
import { parseSealedHeader } from '../../src/kms/sealed.js';

function total(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof VeriteeError)) throw error;
  }
}

const parsers: [string, (value: unknown) => unknown][] = [
  ['policy change', (v) => parseSignedPolicyChange(v)],
  ['epoch record', (v) => parseEpochRecord(v)],
  ['create', (v) => parseCreateRequest(v)],
  ['recover', (v) => parseRecoverRequest(v)],
  ['retire', (v) => parseRetire(v)],
  ['sealed bump', (v) => parseSealedBump(v)],
  ['countersigned', (v) => parseCountersigned(v)],
  ['audit entry', (v) => parseAuditEntry(v)],
  ['canonical JSON', (v) => canonicalJson(v)],
  ['base64url', (v) => fromB64u(v, 'x')],
];

describe('KMS parsers are total', () => {
  for (const [name, parse] of parsers) {
    it(`${name}: arbitrary JSON`, () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => total(() => parse(value))),
        { numRuns: 300 },
      );
    });
  }

  it('sealed header: arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => total(() => parseSealedHeader(bytes))),
      { numRuns: 1000 },
    );
    const magic = new TextEncoder().encode('VTSEALED');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const blob = new Uint8Array(magic.length + 1 + bytes.length);
        blob.set(magic);
        blob[magic.length] = 1;
        blob.set(bytes, magic.length + 1);
        total(() => parseSealedHeader(blob));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses __proto__ keys and unknown fields', () => {
    expect(() =>
      parseRetire(
        JSON.parse(
          '{"order":{"appId":"a","epoch":1,"issuedAt":"2030-01-01T00:00:00Z","__proto__":1},"signature":""}',
        ),
      ),
    ).toThrow(VeriteeError);
    expect(() => canonicalJson({ a: 1.5 })).toThrow(VeriteeError);
  });
});
