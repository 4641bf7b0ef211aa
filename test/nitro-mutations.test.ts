/**
 * Every truncation and every single-byte change inside the signed parts (protected header, payload) and
 * the signature of two genuine documents must be rejected with a VeriteeError: no other exception, no
 * hang, never a pass.
 */
import { describe, expect, it } from 'vitest';
import { VeriteeError } from '../src/errors.js';
import { parseNitroEvidence, verifyNitroEvidence } from '../src/platforms/nitro/index.js';
import { genuineNitroVectors } from './helpers/vectors.js';

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function mustReject(bytes: Uint8Array, at: Date, what: string): Promise<void> {
  try {
    await verifyNitroEvidence(parseNitroEvidence(bytes), { at });
  } catch (error) {
    if (error instanceof VeriteeError) return;
    throw new Error(`${what}: threw ${String(error)} instead of a VeriteeError`);
  }
  throw new Error(`${what}: accepted`);
}

const chosen = genuineNitroVectors().filter((v) =>
  ['marlin-aws-2024-12-13', 'evervault-beta-2022-10-13'].includes(v.id),
);

describe('Nitro: mutation sweep', () => {
  it('uses two genuine documents', () => expect(chosen).toHaveLength(2));

  for (const vector of chosen) {
    const at = new Date(vector.expected.verification_time.unix_ms);
    const { cose } = parseNitroEvidence(vector.bytes);
    const regions = [
      ['protected header', indexOf(vector.bytes, cose.protectedBytes), cose.protectedBytes.length],
      ['payload', indexOf(vector.bytes, cose.payload), cose.payload.length],
      ['signature', indexOf(vector.bytes, cose.signature), cose.signature.length],
    ] as const;

    it(`${vector.id}: the regions are located`, () => {
      for (const [, start] of regions) expect(start).toBeGreaterThan(0);
    });

    it(`${vector.id}: every truncation is rejected`, async () => {
      for (let length = 0; length < vector.bytes.length; length++) {
        await mustReject(vector.bytes.subarray(0, length), at, `truncated to ${length}`);
      }
    });

    for (const [name, start, length] of regions) {
      it(`${vector.id}: every single-byte change in the ${name} is rejected`, async () => {
        for (let offset = start; offset < start + length; offset++) {
          for (const mask of [0x01, 0x80]) {
            const mutated = vector.bytes.slice();
            mutated[offset]! ^= mask;
            await mustReject(mutated, at, `${name} byte ${offset} ^ ${mask}`);
          }
        }
      });
    }
  }
});
