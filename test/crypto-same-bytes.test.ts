/** backend.sameBytes: plain byte equality in both backends (views at any offset, any length). */
import { describe, expect, it } from 'vitest';
import { backend as node } from '../src/crypto/node.js';
import { backend as web } from '../src/crypto/web.js';

describe('sameBytes', () => {
  const region = Uint8Array.from({ length: 700 }, (_, i) => (i * 7) & 0xff);
  const copy = new Uint8Array(703);
  copy.set(region, 3);
  const cases: [Uint8Array, Uint8Array, boolean][] = [
    [region, copy.subarray(3), true],
    [region.subarray(10, 650), copy.subarray(13, 653), true],
    [region.subarray(0, 0), new Uint8Array(0), true],
    [region, copy.subarray(3, 702), false],
    [region.subarray(1), copy.subarray(3, 702), false],
  ];
  const changed = copy.slice(3);
  changed[699] = changed[699]! ^ 1;
  cases.push([region, changed, false]);
  for (const [name, backend] of [
    ['node', node],
    ['web', web],
  ] as const) {
    it(name, () => {
      for (const [a, b, expected] of cases) expect(backend.sameBytes(a, b)).toBe(expected);
    });
  }
});
