import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CborMap, type CborTagged, decodeCbor } from '../src/cbor.js';
import { ErrorCode, VeriteeError } from '../src/errors.js';
import { parseNitroEvidence } from '../src/platforms/nitro/index.js';
import { EncMap, encode } from './helpers/cbor-encode.js';
import { genuineNitroVectors } from './helpers/vectors.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof VeriteeError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('CBOR decoder (RFC 8949 appendix A examples it accepts)', () => {
  const cases: [string, unknown][] = [
    ['00', 0],
    ['17', 23],
    ['1818', 24],
    ['1903e8', 1000],
    ['1a000f4240', 1000000],
    ['1b000000e8d4a51000', 1000000000000],
    ['1bffffffffffffffff', 18446744073709551615n],
    ['20', -1],
    ['3903e7', -1000],
    ['3bffffffffffffffff', -18446744073709551616n],
    ['40', new Uint8Array()],
    ['4401020304', hex('01020304')],
    ['60', ''],
    ['6449455446', 'IETF'],
    ['62c3bc', 'ü'],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['83010203', [1, 2, 3]],
  ];
  for (const [input, expected] of cases) {
    it(`decodes ${input}`, () => expect(decodeCbor(hex(input))).toEqual(expected));
  }

  it('decodes maps with integer and text keys, and tags', () => {
    const map = decodeCbor(hex('a201020304')) as CborMap;
    expect(map.get(1)).toBe(2);
    expect(map.get(3)).toBe(4);
    const tagged = decodeCbor(hex('c11a514b67b0')) as CborTagged;
    expect(tagged.tag).toBe(1);
    expect(tagged.value).toBe(1363896240);
  });
});

describe('CBOR decoder refuses what it must', () => {
  const cases: [string, string, string][] = [
    ['empty input', '', ErrorCode.PARSE_TRUNCATED],
    ['truncated uint16', '19 03', ErrorCode.PARSE_TRUNCATED],
    ['truncated byte string', '44 0102', ErrorCode.PARSE_TRUNCATED],
    ['non-preferred 1-byte integer', '18 17', ErrorCode.PARSE_NON_CANONICAL],
    ['non-preferred 2-byte integer', '19 00ff', ErrorCode.PARSE_NON_CANONICAL],
    ['non-preferred 4-byte length', '5a 00000001 00', ErrorCode.PARSE_NON_CANONICAL],
    ['non-preferred 8-byte integer', '1b 00000000ffffffff', ErrorCode.PARSE_NON_CANONICAL],
    ['indefinite byte string', '5f 41 00 ff', ErrorCode.PARSE_MALFORMED],
    ['indefinite array', '9f 01 ff', ErrorCode.PARSE_MALFORMED],
    ['reserved additional info', '1c', ErrorCode.PARSE_MALFORMED],
    ['float', 'f9 3c00', ErrorCode.PARSE_UNEXPECTED_TYPE],
    ['undefined', 'f7', ErrorCode.PARSE_UNEXPECTED_TYPE],
    ['duplicate map key', 'a2 01 02 01 03', ErrorCode.PARSE_DUPLICATE_KEY],
    ['byte-string map key', 'a1 41 00 01', ErrorCode.PARSE_UNEXPECTED_TYPE],
    ['invalid UTF-8', '62 c3 28', ErrorCode.PARSE_ENCODING],
    ['trailing byte', '01 02', ErrorCode.PARSE_TRAILING_BYTES],
    ['array count beyond input', '9a 00ffffff 01', ErrorCode.PARSE_LIMIT_EXCEEDED],
    ['map count beyond input', 'b9 0fff 01', ErrorCode.PARSE_TRUNCATED],
    ['huge byte string length', '5b 7fffffffffffffff', ErrorCode.PARSE_LIMIT_EXCEEDED],
  ];
  for (const [name, input, code] of cases) {
    it(`rejects ${name}`, () => expect(codeOf(() => decodeCbor(hex(input)))).toBe(code));
  }

  it('bounds nesting depth', () => {
    const deep = new Uint8Array(100).fill(0x81);
    expect(codeOf(() => decodeCbor(new Uint8Array([...deep, 0x00])))).toBe(ErrorCode.PARSE_LIMIT_EXCEEDED);
    expect(decodeCbor(new Uint8Array([0x81, 0x81, 0x00]))).toEqual([[0]]);
  });

  it('names the field path and the offset', () => {
    try {
      decodeCbor(
        encode(
          new EncMap([
            [
              'pcrs',
              new EncMap([
                [0, 1],
                [0, 2],
              ]),
            ],
          ]),
        ),
        { path: 'payload' },
      );
      expect.unreachable();
    } catch (error) {
      expect((error as VeriteeError).path).toBe('payload/pcrs');
      expect((error as VeriteeError).offset).toBe(9);
      expect((error as VeriteeError).message).toMatch(
        /duplicate CBOR map key 0 \(at payload\/pcrs, offset 9\)/,
      );
    }
  });
});

describe('CBOR/COSE property-based fuzzing', () => {
  it('any byte string decodes or fails with a VeriteeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const code = codeOf(() => decodeCbor(bytes));
        expect(typeof code).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });

  it('random CBOR-shaped prefixes decode or fail with a VeriteeError', () => {
    const head = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(fc.array(head, { maxLength: 64 }), (heads) => {
        codeOf(() => decodeCbor(Uint8Array.from(heads)));
      }),
      { numRuns: 3000 },
    );
  });

  it('random splices into genuine documents never escape as another exception', () => {
    const vectors = genuineNitroVectors();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: vectors.length - 1 }),
        fc.nat(),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 8 }),
        (which, position, insert, remove) => {
          const original = vectors[which]!.bytes;
          const at = position % original.length;
          const mutated = new Uint8Array([
            ...original.subarray(0, at),
            ...insert,
            ...original.subarray(at + remove),
          ]);
          codeOf(() => parseNitroEvidence(mutated));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
