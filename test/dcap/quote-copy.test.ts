/** parseQuote's private copy: the caller's buffer and other quotes never reach a parsed quote's bytes. */
import { describe, expect, it } from 'vitest';
import { parseQuote } from '../../src/platforms/dcap/index.js';
import { loadVector } from './helpers.js';

const tdx = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06').quote;
const sgx = loadVector('sgx/dcapqvl-sgx-v3-00A067110000-2025-06').quote;

describe('parseQuote copy', () => {
  it('is not changed by later writes to the input', () => {
    const input = tdx.slice();
    const quote = parseQuote(input);
    const before = quote.signedBytes.slice();
    input.fill(0xaa);
    expect(quote.signedBytes).toEqual(before);
    expect(quote.signedBytes.buffer).not.toBe(input.buffer);
  });

  it('gives every quote its own bytes (many quotes, shared slabs)', () => {
    const quotes = Array.from({ length: 40 }, (_, i) => parseQuote(i % 2 === 0 ? tdx : sgx));
    quotes.forEach((quote, i) => {
      const input = i % 2 === 0 ? tdx : sgx;
      expect(quote.signedBytes).toEqual(input.subarray(0, quote.signedBytes.length));
      expect(quote.signature).toEqual(
        input.subarray(quote.signature.byteOffset - quote.signedBytes.byteOffset).subarray(0, 64),
      );
    });
    // Writing into one quote's bytes leaves the others as they were.
    quotes[0]!.signedBytes.fill(0);
    expect(quotes[2]!.signedBytes).toEqual(tdx.subarray(0, quotes[2]!.signedBytes.length));
    expect(quotes[1]!.signedBytes).toEqual(sgx.subarray(0, quotes[1]!.signedBytes.length));
  });

  it('copies a quote larger than a slab share on its own', () => {
    const padded = new Uint8Array(tdx.length + 20_000);
    padded.set(tdx);
    const quote = parseQuote(padded);
    expect(quote.trailingBytes).toBe(parseQuote(tdx).trailingBytes + 20_000);
    expect(quote.signedBytes).toEqual(tdx.subarray(0, quote.signedBytes.length));
  });
});
