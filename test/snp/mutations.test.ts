/**
 * Sweeps: every truncation length, a flipped byte at every position of the signed area and the
 * signature, every byte of the VCEK and ASK, and property-based fuzzing of the report and certificate-table
 * parsers. Anything rejected must be a VeriteeError; nothing mutated may verify.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import { parseCertificate, pemToDer } from '../../src/pki/certificate.js';
import {
  MAX_ENTRIES,
  parseCertTable,
  parseReport,
  REPORT_SIZE,
  SIGNED_SIZE,
  verifySnpBytes,
} from '../../src/platforms/snp/index.js';
import { buildCertTable, GUID } from './fake.js';
import { loadVector, syncRejection } from './helpers.js';

const vector = loadVector('trustee-milan-v2');
const vlek = loadVector('trustee-milan-vlek-v3');

async function outcome(fn: () => Promise<unknown>): Promise<'ok' | VeriteeError> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    if (error instanceof VeriteeError) return error;
    throw error;
  }
}

describe('report truncation and extension', () => {
  it('every prefix shorter than 1184 bytes is PARSE_TRUNCATED', () => {
    for (let length = 0; length < REPORT_SIZE; length++) {
      const error = syncRejection(() => parseReport(vector.report.subarray(0, length)));
      expect(error.code).toBe(ErrorCode.PARSE_TRUNCATED);
    }
  });

  it('a report with bytes appended is PARSE_TRAILING_BYTES for the parser, and no valid extended report', async () => {
    const longer = new Uint8Array([...vector.report, 0]);
    expect(syncRejection(() => parseReport(longer)).code).toBe(ErrorCode.PARSE_TRAILING_BYTES);
    for (const extra of [1, 23, 24, 25, 100]) {
      const bytes = new Uint8Array([...vector.report, ...new Uint8Array(extra).fill(0x41)]);
      const result = await outcome(() =>
        verifySnpBytes(bytes, { at: vector.at, collateral: { vcek: vector.vcek } }),
      );
      expect(result).toBeInstanceOf(VeriteeError);
    }
  });
});

describe.each([vector, vlek])('single-byte flips in $id', (v) => {
  const options = { at: v.at, collateral: { vcek: v.vcek, chain: v.chain } };

  it('control: the unmodified report verifies', async () => {
    expect(await outcome(() => verifySnpBytes(v.report, options))).toBe('ok');
  });

  it('every byte of the signed area (0x000–0x29F) and the signature (0x2A0–0x49F), flipped, is rejected', async () => {
    const codes = new Map<string, number>();
    for (let i = 0; i < REPORT_SIZE; i++) {
      for (const mask of [0x01, 0x80]) {
        const mutated = v.report.slice();
        mutated[i]! ^= mask;
        const result = await outcome(() => verifySnpBytes(mutated, options));
        if (result === 'ok')
          expect.fail(`flipping byte 0x${i.toString(16)} with 0x${mask.toString(16)} verified`);
        codes.set(result.code, (codes.get(result.code) ?? 0) + 1);
      }
    }
    // Mostly signature failures, plus structural rejections of reserved bytes and fields.
    expect(codes.get(ErrorCode.SIG_INVALID) ?? 0).toBeGreaterThan(SIGNED_SIZE);
    expect(codes.has(ErrorCode.PARSE_INVALID_VALUE)).toBe(true);
  });
});

describe('certificate mutations', () => {
  it('every byte of the VCEK, flipped, is rejected', async () => {
    for (let i = 0; i < vector.vcek.length; i++) {
      const mutated = vector.vcek.slice();
      mutated[i]! ^= 0x01;
      const result = await outcome(() =>
        verifySnpBytes(vector.report, { at: vector.at, collateral: { vcek: mutated, chain: vector.chain } }),
      );
      if (result === 'ok') expect.fail(`flipping VCEK byte ${i} verified`);
    }
  });

  it('every byte of the ASK, flipped, is rejected', async () => {
    const [ask, ark] = pemToDer(vector.chain);
    for (let i = 0; i < ask!.length; i++) {
      const mutated = ask!.slice();
      mutated[i]! ^= 0x01;
      const chain = new Uint8Array([...mutated, ...ark!]);
      const result = await outcome(() =>
        verifySnpBytes(vector.report, { at: vector.at, collateral: { vcek: vector.vcek, chain } }),
      );
      if (result === 'ok') expect.fail(`flipping ASK byte ${i} verified`);
    }
  });

  it('every truncation of the VCEK is a VeriteeError', async () => {
    for (let length = 0; length < vector.vcek.length; length++) {
      const result = await outcome(() =>
        verifySnpBytes(vector.report, {
          at: vector.at,
          collateral: { vcek: vector.vcek.subarray(0, length) },
        }),
      );
      expect(result).toBeInstanceOf(VeriteeError);
    }
  });

  it('the VCEK is parsed with serial number 0', () => {
    expect(parseCertificate(vector.vcek).serialNumber).toBe('00');
  });
});

describe('property-based fuzzing', () => {
  it('parseReport: arbitrary bytes give a report or a VeriteeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1300 }), (bytes) => {
        try {
          parseReport(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(VeriteeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parseReport: random edits of a real report give a report or a VeriteeError, never a silent change', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: REPORT_SIZE - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (edits) => {
          const bytes = vector.report.slice();
          for (const [at, value] of edits) bytes[at] = value;
          try {
            const report = parseReport(bytes);
            expect(Array.from(report.bytes)).toEqual(Array.from(bytes));
          } catch (error) {
            expect(error).toBeInstanceOf(VeriteeError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('parseCertTable: arbitrary bytes give entries inside the buffer or a VeriteeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (bytes) => {
        try {
          const entries = parseCertTable(bytes);
          for (const entry of entries) {
            expect(entry.offset + entry.data.length).toBeLessThanOrEqual(bytes.length);
            expect(entry.data.length).toBeGreaterThan(0);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(VeriteeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('parseCertTable: structured tables with random offsets and lengths', () => {
    const guids = [...Object.values(GUID), '00000000-0000-0000-0000-000000000001'];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            guid: fc.constantFrom(...guids),
            offset: fc.integer({ min: 0, max: 600 }),
            length: fc.integer({ min: 0, max: 600 }),
          }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 600 }),
        (entries, size) => {
          const tableSize = (entries.length + 1) * 24;
          const buffer = new Uint8Array(tableSize + size);
          const view = new DataView(buffer.buffer);
          entries.forEach((entry, index) => {
            buffer.set(Buffer.from(entry.guid.replaceAll('-', ''), 'hex'), index * 24);
            view.setUint32(index * 24 + 16, entry.offset, true);
            view.setUint32(index * 24 + 20, entry.length, true);
          });
          try {
            const parsed = parseCertTable(buffer);
            const ranges = parsed.map((e) => [e.offset, e.offset + e.data.length] as const);
            for (const [from, to] of ranges) {
              expect(from).toBeGreaterThanOrEqual(tableSize);
              expect(to).toBeLessThanOrEqual(buffer.length);
            }
            expect(new Set(parsed.map((e) => e.guid)).size).toBe(parsed.length);
          } catch (error) {
            expect(error).toBeInstanceOf(VeriteeError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('certificate table strictness', () => {
  const blob = new Uint8Array([1, 2, 3, 4]);

  it('parses a well-formed table with zero padding', () => {
    const table = new Uint8Array([...buildCertTable([{ guid: GUID.vcek, data: blob }]), 0, 0, 0]);
    const [entry] = parseCertTable(table);
    expect(entry).toMatchObject({ guid: GUID.vcek, kind: 'vcek' });
    expect(Array.from(entry!.data)).toEqual([1, 2, 3, 4]);
  });

  it('rejects a missing terminator, overlaps, duplicates, pointers into the table, and stray bytes', () => {
    const good = buildCertTable([
      { guid: GUID.vcek, data: blob },
      { guid: GUID.ask, data: blob },
    ]);
    expect(syncRejection(() => parseCertTable(good.subarray(0, 40))).code).toBe(ErrorCode.PARSE_TRUNCATED);
    const overlap = good.slice();
    new DataView(overlap.buffer).setUint32(24 + 16, 72, true); // second entry at the first's offset
    expect(syncRejection(() => parseCertTable(overlap)).code).toBe(ErrorCode.PARSE_MALFORMED);
    const duplicate = good.slice();
    duplicate.set(duplicate.subarray(0, 16), 24);
    expect(syncRejection(() => parseCertTable(duplicate)).code).toBe(ErrorCode.PARSE_MALFORMED);
    const intoTable = good.slice();
    new DataView(intoTable.buffer).setUint32(16, 8, true);
    expect(syncRejection(() => parseCertTable(intoTable)).code).toBe(ErrorCode.PARSE_MALFORMED);
    const stray = new Uint8Array([...good, 0, 9]);
    expect(syncRejection(() => parseCertTable(stray)).code).toBe(ErrorCode.PARSE_MALFORMED);
    const past = good.slice();
    new DataView(past.buffer).setUint32(20, 0xffffffff, true);
    expect(syncRejection(() => parseCertTable(past)).code).toBe(ErrorCode.PARSE_TRUNCATED);
    const badTerminator = good.slice();
    badTerminator[48 + 20] = 1;
    expect(syncRejection(() => parseCertTable(badTerminator)).code).toBe(ErrorCode.PARSE_MALFORMED);
  });

  it('bounds the number of entries', () => {
    const many = new Uint8Array((MAX_ENTRIES + 3) * 24);
    for (let i = 0; i < MAX_ENTRIES + 2; i++) many[i * 24] = i + 1;
    expect(syncRejection(() => parseCertTable(many)).code).toBe(ErrorCode.PARSE_LIMIT_EXCEEDED);
  });
});
