/**
 * Property-based robustness of the measure parsers: any input yields a value or a VeriteeError, never
 * another exception (fast-check; mutations of real and built inputs plus random JSON).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../src/bytes.js';
import { isVeriteeError } from '../src/errors.js';
import { parseDstackEventLog, parseEventLog } from '../src/measure/eventlog.js';
import { parseMeasurementsFile } from '../src/measure/measurements.js';
import {
  parseEnvelope,
  parseReleaseStatement,
  serializeEnvelope,
  signRelease,
} from '../src/measure/release.js';
import { parseReleaseBundle, parseReleasesPolicy } from '../src/measure/releases.js';
import { treeHeadFromJson } from '../src/measure/translog/checkpoint.js';
import { PREDICATE, privateJwk } from './helpers/keys.js';

function typedOnly(fn: () => unknown): boolean {
  try {
    fn();
  } catch (error) {
    if (!isVeriteeError(error)) throw error;
  }
  return true;
}

const json = fc.jsonValue({ maxDepth: 4 });

describe('measure parsers never throw untyped errors', () => {
  it('on random JSON values', () => {
    fc.assert(
      fc.property(json, (value) => {
        typedOnly(() => parseDstackEventLog(value));
        typedOnly(() => parseEnvelope(value));
        typedOnly(() => parseReleaseBundle(value));
        typedOnly(() => treeHeadFromJson(value));
        typedOnly(() => parseMeasurementsFile(value));
        typedOnly(() => parseReleaseStatement(utf8Encode(JSON.stringify(value) ?? 'null')));
        typedOnly(() => parseReleasesPolicy(value));
        return true;
      }),
      { numRuns: 1500 },
    );
  });

  it('on byte mutations of a real dstack log and a signed release envelope', async () => {
    const log = readFileSync(
      join(import.meta.dirname, 'vectors', 'measure', 'dstack', 'near-mpc', 'event_log.json'),
    );
    const envelope = utf8Encode(serializeEnvelope(await signRelease(PREDICATE, privateJwk('ed25519'))));
    const payload = parseEnvelope(envelope).payload;
    for (const base of [new Uint8Array(log), envelope, payload]) {
      fc.assert(
        fc.property(
          fc.nat(base.length - 1),
          fc.integer({ min: 0, max: 255 }),
          fc.nat(8),
          (at, value, cut) => {
            const copy = base.slice(0, base.length - cut);
            copy[Math.min(at, copy.length - 1)] = value;
            typedOnly(() => parseEventLog(copy));
            typedOnly(() => parseEnvelope(copy));
            typedOnly(() => parseReleaseStatement(copy));
            return true;
          },
        ),
        { numRuns: 1000 },
      );
    }
    expect(parseReleaseStatement(payload).predicate.repository).toBe(PREDICATE.repository);
  });
});
