/** The fixed-layout report parse gives what the reader-based parse gives: fields, and errors. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  parseSgxReport,
  parseTdReport,
  readSgxReport,
  readTdReport,
} from '../../src/platforms/dcap/quote.js';

const RESERVED: readonly (readonly [number, number])[] = [
  [20, 12],
  [96, 32],
  [160, 32],
  [262, 42],
];

function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (error) {
    const e = error as { code: string; path: string; offset: number; message: string };
    return { error: { code: e.code, path: e.path, offset: e.offset, message: e.message } };
  }
}

describe('report layouts', () => {
  it('SGX report: same fields and the same error for each reserved byte set', () => {
    for (let round = 0; round < 50; round++) {
      const bytes = new Uint8Array(randomBytes(384));
      for (const [start, count] of RESERVED) bytes.fill(0, start, start + count);
      if (round > 0 && round <= 40) {
        const [start, count] = RESERVED[round % RESERVED.length]!;
        bytes[start + (round % count)] = 1 + (round % 255);
      }
      expect(outcome(() => parseSgxReport(bytes, 'r'))).toEqual(outcome(() => readSgxReport(bytes, 'r')));
    }
    for (const length of [0, 383, 385]) {
      const bytes = new Uint8Array(length);
      expect(outcome(() => parseSgxReport(bytes, 'r'))).toEqual(outcome(() => readSgxReport(bytes, 'r')));
    }
  });

  it('TD reports 1.0 and 1.5: same fields; other lengths fail the same way', () => {
    for (const [version, size] of [
      ['1.0', 584],
      ['1.5', 648],
    ] as const) {
      const bytes = new Uint8Array(randomBytes(size));
      expect(parseTdReport(bytes, version, 'r')).toEqual(readTdReport(bytes, version, 'r'));
      for (const length of [size - 1, size + 1, version === '1.0' ? 648 : 584]) {
        const other = new Uint8Array(length);
        expect(outcome(() => parseTdReport(other, version, 'r'))).toEqual(
          outcome(() => readTdReport(other, version, 'r')),
        );
      }
    }
  });
});
