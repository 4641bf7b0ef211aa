/**
 * The quote parser is total: any byte string yields a Quote or a VeriteeError, never another exception
 * and never a hang. Property-based (fast-check) over random bytes, mutated real quotes and every truncation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import {
  looksLikeQuote,
  parseDcapCollateral,
  parseQuote,
  parseTcbInfo,
} from '../../src/platforms/dcap/index.js';
import { loadVector, vectorIds } from './helpers.js';

const quotes = vectorIds().map((id) => loadVector(id).quote);

function total(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof VeriteeError)) throw error;
  }
}

describe('quote parser fuzzing', () => {
  it('random bytes: a Quote or a VeriteeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6000 }), (bytes) => {
        total(() => parseQuote(bytes));
        expect(typeof looksLikeQuote(bytes)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a valid header prefix', () => {
    const prefixes = quotes.map((q) => q.subarray(0, 48));
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 6000 }), (prefix, tail) => {
        const bytes = new Uint8Array(prefix.length + tail.length);
        bytes.set(prefix);
        bytes.set(tail, prefix.length);
        total(() => parseQuote(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('real quotes with random byte edits, insertions and deletions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...quotes),
        fc.array(
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (quote, edits) => {
          const bytes = Array.from(quote);
          for (const [position, value, kind] of edits) {
            const at = position % (bytes.length + 1);
            if (kind === 'set' && at < bytes.length) bytes[at] = value;
            else if (kind === 'insert') bytes.splice(at, 0, value);
            else bytes.splice(at, 1);
          }
          const mutated = new Uint8Array(bytes);
          total(() => parseQuote(mutated));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('length fields set to extreme values are bounded', () => {
    const quote = quotes[0]!;
    const sigLengthOffset = parseQuote(quote).signedBytes.length;
    for (const value of [0, 1, 0x7fffffff, 0xffffffff]) {
      const bytes = quote.slice();
      new DataView(bytes.buffer).setUint32(sigLengthOffset, value, true);
      total(() => parseQuote(bytes));
    }
  });

  it('every truncation of every real quote fails with PARSE_TRUNCATED before the signature data ends', () => {
    for (const quote of quotes) {
      const parsed = parseQuote(quote);
      const end = quote.length - parsed.trailingBytes;
      for (let length = 0; length < end; length++) {
        let error: unknown;
        try {
          parseQuote(quote.subarray(0, length));
        } catch (e) {
          error = e;
        }
        expect(error, `length ${length}`).toBeInstanceOf(VeriteeError);
        expect((error as VeriteeError).code).toBe(ErrorCode.PARSE_TRUNCATED);
      }
      expect(parseQuote(quote.subarray(0, end)).trailingBytes).toBe(0);
    }
  });

  it('errors name the field path and an absolute offset', () => {
    const quote = quotes[0]!.slice();
    quote[48 + 20] = 1; // reserved1 of the SGX report body
    let error: VeriteeError | undefined;
    try {
      parseQuote(quote);
    } catch (e) {
      error = e as VeriteeError;
    }
    expect(error?.code).toBe(ErrorCode.PARSE_INVALID_VALUE);
    expect(error?.path).toBe('quote/body/reserved1');
    expect(error?.offset).toBe(68);
  });

  it('unsupported key types and versions say so', () => {
    const quote = quotes[0]!.slice();
    quote[2] = 3;
    expect(() => parseQuote(quote)).toThrow(/ECDSA P-384/);
    const v6 = quotes[0]!.slice();
    v6[0] = 6;
    expect(() => parseQuote(v6)).toThrowError(VeriteeError);
  });
});

describe('collateral parser fuzzing', () => {
  it('random JSON values and text: typed errors only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 300 })), (text) => {
        total(() => parseDcapCollateral(text));
        total(() => parseTcbInfo(text));
        total(() => parseDcapCollateral({ 'tcb_info.json': new TextEncoder().encode(text) }));
      }),
      { numRuns: 1000 },
    );
  });

  it('structured random TCB Info objects: typed errors only', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 4 }), (value) => {
        total(() => parseTcbInfo(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
  });
});
