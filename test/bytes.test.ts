import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  decodeEvidenceInput,
  fromBase64,
  fromHex,
  regionHex,
  toBase64,
  toBase64Url,
  toHex,
} from '../src/bytes.js';
import { ErrorCode, VeriteeError } from '../src/errors.js';

describe('hex and base64', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(fromHex(toHex(bytes))).toEqual(bytes);
        expect(fromBase64(toBase64(bytes))).toEqual(bytes);
        expect(fromBase64(toBase64Url(bytes))).toEqual(bytes);
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
        expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      }),
    );
  });
  it('encodes hex like Buffer on both sides of the long-input path', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 800 }), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
      }),
    );
  });
  it('serves the hex of views inside a region from one encoding, and encodes others on their own', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const region = bytes.subarray(1);
        const hexOf = regionHex(region);
        const start = a % (bytes.length + 1);
        const end = start + (b % (bytes.length - start + 1));
        const view = bytes.subarray(start, end);
        expect(hexOf(view)).toBe(Buffer.from(view).toString('hex'));
        const copy = view.slice();
        expect(hexOf(copy)).toBe(Buffer.from(copy).toString('hex'));
      }),
    );
  });
  it('rejects malformed text with a position', () => {
    expect(() => fromHex('abc')).toThrow(/odd number/);
    expect(() => fromHex('zz')).toThrow(/invalid hex digit/);
    expect(() => fromBase64('ab$d')).toThrow(/offset 2/);
    expect(() => fromBase64('a===')).toThrow(/padding/);
    expect(() => fromBase64('AB==')).toThrow(/trailing bits/);
    expect(fromHex('0xFF')).toEqual(Uint8Array.of(255));
  });
});

describe('ByteReader', () => {
  it('reads little-endian and refuses to run past the end, naming the field', () => {
    const reader = new ByteReader(Uint8Array.of(1, 0, 2, 0, 0, 0, 9), 'quote');
    expect(reader.u16('version')).toBe(1);
    expect(reader.u32('size')).toBe(2);
    try {
      reader.u16('tail');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(VeriteeError);
      expect((error as VeriteeError).code).toBe(ErrorCode.PARSE_TRUNCATED);
      expect((error as VeriteeError).message).toBe(
        'input ends before tail (at quote/tail, offset 6): need 2 bytes, 1 left',
      );
    }
  });
  it('checks reserved ranges and trailing bytes', () => {
    const reader = new ByteReader(Uint8Array.of(0, 0, 1, 5));
    expect(() => reader.zeros(3, 'reserved')).toThrow(/offset 2/);
    const done = new ByteReader(Uint8Array.of(1, 2));
    done.u8('a');
    expect(() => done.finish()).toThrow(expect.objectContaining({ code: ErrorCode.PARSE_TRAILING_BYTES }));
  });
  it('copies with take() and views with bytesView()', () => {
    const input = Uint8Array.of(1, 2, 3);
    const copy = new ByteReader(input).take(2, 'x');
    input[0] = 9;
    expect(copy[0]).toBe(1);
  });
});

describe('decodeEvidenceInput', () => {
  it('accepts raw binary, hex and base64 with whitespace', () => {
    const raw = Uint8Array.of(0x84, 0x44, 0xa1, 0x01);
    expect(decodeEvidenceInput(raw)).toBe(raw);
    expect(decodeEvidenceInput(new TextEncoder().encode(' 8444\na101 '))).toEqual(raw);
    expect(decodeEvidenceInput(new TextEncoder().encode('hEShAQ==\n'))).toEqual(raw);
  });
  it('rejects empty and non-evidence text', () => {
    expect(() => decodeEvidenceInput(new Uint8Array())).toThrow(/empty/);
    expect(() => decodeEvidenceInput(new TextEncoder().encode('hello, world'))).toThrow(
      /neither binary, hex nor base64/,
    );
  });
});
