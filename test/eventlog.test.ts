/**
 * Event-log replay on real logs: Google COS 113's CCEL log (go-tdx-guest) and three dstack JSON logs
 * must replay to their quotes' RTMRs; tampered logs must name the first diverging event.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.js';
import { isVeriteeError } from '../src/errors.js';
import {
  DSTACK_RUNTIME_EVENT_TYPE,
  dstackEventDigest,
  parseDstackEventLog,
  parseEventLog,
  parseTcgEventLog,
} from '../src/measure/eventlog.js';
import { assertLogMatchesRtmrs, compareRtmrs, quoteRtmrs, replayEventLog } from '../src/measure/rtmr.js';

const DIR = join(import.meta.dirname, 'vectors', 'measure');
const read = (...path: string[]) => new Uint8Array(readFileSync(join(DIR, ...path)));
const readJson = (...path: string[]) => JSON.parse(readFileSync(join(DIR, ...path), 'utf8'));

/** Independent cross-check of the DCAP parser: RTMR0–3 of a v4 TDX quote (48-byte header + TD report 1.0, RTMR0 at 328). */
function rawQuoteRtmrs(quote: Uint8Array): Uint8Array[] {
  return [0, 1, 2, 3].map((i) => quote.slice(48 + 328 + 48 * i, 48 + 376 + 48 * i));
}

const ccel = read('ccel-cos113', 'ccel_data.dat');
const ccelExpected = readJson('ccel-cos113', 'expected.json');
const ccelRtmrs = [0, 1, 2, 3].map((i) => fromHex(ccelExpected[`rtmr${i}`]));
const dstackExpected = readJson('dstack', 'expected.json');

const DSTACK = [
  {
    id: 'dstack-verifier/quote-report',
    log: ['dstack', 'dstack-verifier', 'quote-report.event_log.json'],
    quote: ['dstack', 'dstack-verifier', 'quote-report.quote.bin'],
  },
  {
    id: 'dstack-verifier/tdx-lite-getquote',
    log: ['dstack', 'dstack-verifier', 'tdx-lite-getquote.event_log.json'],
    quote: ['dstack', 'dstack-verifier', 'tdx-lite-getquote.quote.bin'],
  },
  {
    id: 'near-mpc',
    log: ['dstack', 'near-mpc', 'event_log.json'],
    quote: ['dstack', 'near-mpc', 'quote.bin'],
  },
];

function expectedRtmrs(id: string): Uint8Array[] {
  const vector = dstackExpected.vectors.find((v: { id: string }) => v.id === id);
  return [0, 1, 2, 3].map((i) => fromHex(vector.quote_fields[`rtmr${i}`]));
}

describe('CCEL (TCG crypto-agile) log', () => {
  it('parses the real COS 113 log and replays it to the quote RTMRs', () => {
    const log = parseTcgEventLog(ccel);
    expect(log.specId.specVersion).toBe('2.0.0');
    expect([...log.specId.algorithms]).toEqual([[0x000c, 48]]);
    expect(log.events).toHaveLength(43);
    const replay = replayEventLog(log);
    expect(replay.rtmrs.map(toHex)).toEqual(ccelRtmrs.map(toHex));
    expect(rawQuoteRtmrs(read('ccel-cos113', 'quote.bin')).map(toHex)).toEqual(ccelRtmrs.map(toHex));
    expect(compareRtmrs(replay, quoteRtmrs(read('ccel-cos113', 'quote.bin'))).match).toBe(true);
    expect(compareRtmrs(replay, ccelRtmrs).match).toBe(true);
    expect(parseEventLog(ccel).events).toHaveLength(43);
    expect(log.events[0]!.typeName).toBe('EV_EFI_HANDOFF_TABLES2');
  });

  it('names the first diverging event when a digest is changed', () => {
    const log = parseTcgEventLog(ccel);
    const victim = log.events.find((e) => e.rtmr === 1)!;
    const changed = {
      ...log,
      events: log.events.map((e) => (e === victim ? { ...e, digest: new Uint8Array(48) } : e)),
    };
    const comparison = compareRtmrs(replayEventLog(changed), ccelRtmrs);
    expect(comparison.match).toBe(false);
    expect(comparison.registers.filter((r) => !r.ok).map((r) => r.rtmr)).toEqual([1]);
    expect(comparison.firstDivergence?.rtmr).toBe(1);
    expect(comparison.firstDivergence?.event?.index).toBe(victim.index);
    expect(() => assertLogMatchesRtmrs(changed, ccelRtmrs)).toThrow(/RTMR1/);
  });

  it('names the first extra event when the log claims more than was measured', () => {
    const log = parseTcgEventLog(ccel);
    const last = log.events.filter((e) => e.rtmr === 2).at(-1)!;
    const digest = new Uint8Array(48).fill(7);
    const extra = { ...last, index: log.events.length + 1, digest, loggedDigest: digest };
    const comparison = compareRtmrs(replayEventLog({ ...log, events: [...log.events, extra] }), ccelRtmrs);
    expect(comparison.firstDivergence).toMatchObject({ rtmr: 2, reason: 'extra-events' });
    expect(comparison.firstDivergence?.event?.index).toBe(extra.index);
  });

  it('every truncation of the log is refused or yields a shorter replay, never another exception', () => {
    const end = 18101;
    for (let n = 0; n < end; n += 7) {
      try {
        const log = parseTcgEventLog(ccel.subarray(0, n));
        expect(log.events.length).toBeLessThan(43);
      } catch (error) {
        expect(isVeriteeError(error), `${n}: ${error}`).toBe(true);
      }
    }
  });

  it('random mutations only ever produce VeriteeErrors', () => {
    const head = ccel.slice(0, 18101);
    fc.assert(
      fc.property(fc.nat(head.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const copy = head.slice();
        copy[at] = value;
        try {
          parseTcgEventLog(copy);
        } catch (error) {
          if (!isVeriteeError(error)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects structural errors with typed codes', () => {
    const codeOf = (bytes: Uint8Array) => {
      try {
        parseTcgEventLog(bytes);
        return 'accepted';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    const edit = (at: number, value: number) => {
      const copy = ccel.slice();
      copy[at] = value;
      return copy;
    };
    expect(codeOf(edit(4, 4))).toBe('FORMAT_UNKNOWN'); // first event type
    expect(codeOf(edit(32, 0x54))).toBe('FORMAT_UNKNOWN'); // "Spec ID" signature
    expect(codeOf(edit(60, 0x0b))).toBe('UNSUPPORTED'); // algorithm SHA-256 instead of SHA-384
    expect(codeOf(edit(65, 5))).toBe('PARSE_INVALID_VALUE'); // first event's MR index 5
    expect(codeOf(edit(73, 2))).toBe('PARSE_INVALID_VALUE'); // digest count 2
    expect(codeOf(new Uint8Array(3))).toBe('PARSE_TRUNCATED');
    // Garbage after the last event (not 0xFF/0x00 padding) is parsed as an event and refused.
    const garbage = ccel.slice();
    garbage.set([1, 0, 0, 0, 1, 0, 0, 0], 18101);
    expect(codeOf(garbage)).not.toBe('accepted');
  });
});

describe('dstack JSON event log', () => {
  for (const vector of DSTACK) {
    it(`${vector.id}: replays to the quote's RTMR0–3`, () => {
      const log = parseEventLog(read(...vector.log));
      const expected = expectedRtmrs(vector.id);
      expect(rawQuoteRtmrs(read(...vector.quote)).map(toHex)).toEqual(expected.map(toHex));
      expect(quoteRtmrs(read(...vector.quote)).map(toHex)).toEqual(expected.map(toHex));
      const replay = assertLogMatchesRtmrs(log, expected);
      expect(replay.rtmrs.map(toHex)).toEqual(expected.map(toHex));
      // Every RTMR3 event's digest is recomputed from type, name and payload.
      for (const event of log.events.filter((e) => e.rtmr === 3)) {
        expect(event.digestSource).toBe('recomputed');
        if (event.loggedDigest !== undefined) expect(toHex(event.digest)).toBe(toHex(event.loggedDigest));
      }
    });
  }

  it('the recomputed digests equal the ones in expected.json', () => {
    let count = 0;
    for (const vector of dstackExpected.vectors) {
      for (const event of vector.rtmr3_events) {
        const digest = dstackEventDigest(
          DSTACK_RUNTIME_EVENT_TYPE,
          event.event,
          fromHex(event.event_payload),
        );
        expect(toHex(digest)).toBe(event.digest_computed);
        count++;
      }
    }
    expect(count).toBe(26);
  });

  it('a changed payload is named exactly (its logged digest no longer matches)', () => {
    const json = readJson('dstack', 'near-mpc', 'event_log.json');
    const index = json.findIndex((e: { event: string }) => e.event === 'compose-hash');
    json[index].event_payload = '00'.repeat(32);
    const comparison = compareRtmrs(replayEventLog(parseDstackEventLog(json)), expectedRtmrs('near-mpc'));
    expect(comparison.match).toBe(false);
    expect(comparison.firstDivergence).toMatchObject({ rtmr: 3, reason: 'digest-mismatch' });
    expect(comparison.firstDivergence?.event?.name).toBe('compose-hash');
    expect(comparison.firstDivergence?.event?.index).toBe(index);
  });

  it('a changed payload with a consistent digest cannot be localised, but is refused', () => {
    const json = readJson('dstack', 'dstack-verifier', 'tdx-lite-getquote.event_log.json');
    const index = json.findIndex((e: { event: string }) => e.event === 'app-id');
    json[index].event_payload = '11'.repeat(20);
    const comparison = compareRtmrs(
      replayEventLog(parseDstackEventLog(json)),
      expectedRtmrs('dstack-verifier/tdx-lite-getquote'),
    );
    expect(comparison.firstDivergence).toMatchObject({ rtmr: 3, reason: 'unlocalised' });
  });

  it('refuses an SGX quote as a source of RTMRs', () => {
    const sgx = new Uint8Array(
      readFileSync(
        join(
          import.meta.dirname,
          'vectors',
          'dcap',
          'sgx',
          'dcapqvl-sgx-v3-00A067110000-2025-06',
          'quote.bin',
        ),
      ),
    );
    expect(() => quoteRtmrs(sgx)).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
    expect(() => quoteRtmrs(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('accepts the GetQuote response shape (event_log as a JSON string)', () => {
    const text = new TextDecoder().decode(read(...DSTACK[0]!.log));
    const wrapped = new TextEncoder().encode(JSON.stringify({ event_log: text }));
    expect(parseEventLog(wrapped).events).toHaveLength(28);
  });

  it('rejects malformed events with typed codes', () => {
    const base = readJson('dstack', 'near-mpc', 'event_log.json');
    const codeOf = (fn: (events: Record<string, unknown>[]) => void) => {
      const copy = structuredClone(base);
      fn(copy);
      try {
        parseDstackEventLog(copy);
        return 'accepted';
      } catch (error) {
        expect(isVeriteeError(error)).toBe(true);
        return (error as { code: string }).code;
      }
    };
    expect(codeOf(() => {})).toBe('accepted');
    expect(codeOf((e) => (e[0]!.imr = 4))).toBe('PARSE_INVALID_VALUE');
    expect(codeOf((e) => (e[0]!.imr = '0'))).toBe('PARSE_INVALID_VALUE');
    expect(codeOf((e) => (e[0]!.extra = 1))).toBe('PARSE_UNKNOWN_FIELD');
    expect(codeOf((e) => delete e[0]!.digest)).toBe('PARSE_MISSING_FIELD');
    expect(codeOf((e) => (e[0]!.digest = ''))).toBe('PARSE_MISSING_FIELD');
    expect(codeOf((e) => (e[0]!.digest = 'abcd'))).toBe('PARSE_INVALID_VALUE');
    expect(codeOf((e) => (e[0]!.event_payload = 'zz'))).toBe('PARSE_ENCODING');
    expect(codeOf((e) => (e[0]!.event = 5))).toBe('PARSE_UNEXPECTED_TYPE');
    expect(codeOf((e) => (e[0] = null as never))).toBe('PARSE_UNEXPECTED_TYPE');
    expect(() => parseEventLog(new TextEncoder().encode('[1,'))).toThrow(
      expect.objectContaining({ code: 'PARSE_ENCODING' }),
    );
    expect(() => parseEventLog(new TextEncoder().encode('{"a":1}'))).toThrow(
      expect.objectContaining({ code: 'PARSE_UNEXPECTED_TYPE' }),
    );
  });
});
