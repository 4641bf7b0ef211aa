/**
 * RTMR replay: fold an event log into RTMR0–3 and compare the result with the RTMRs a TDX quote reports,
 * naming the first event that diverges.
 *
 * Extend rule (Intel TDX Module spec, TDG.MR.RTMR.EXTEND): `RTMR = SHA-384(RTMR ‖ digest)`, each RTMR
 * starting at 48 zero bytes; events are applied in log order.
 *
 * Localising a divergence. For a register whose replayed value differs from the quote's, the first
 * diverging event is, in order of certainty:
 * 1. an event whose content no longer matches the digest written in the log (dstack runtime events carry
 *    both, so a changed payload is named exactly) — `reason: "digest-mismatch"`;
 * 2. when the quote's value equals the register after some prefix of the log, the event after that
 *    prefix: the log claims measurements the TD never made — `reason: "extra-events"`;
 * 3. otherwise the hashes cannot say which event differs (an event changed or missing): the register's
 *    first event is named as the earliest candidate — `reason: "unlocalised"`.
 */
import { backend } from '#crypto';
import { equalBytes, toHex } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { parseQuote } from '../platforms/dcap/quote.js';
import { describeEvent, type EventLog, type MeasuredEvent, RTMR_COUNT, RTMR_SIZE } from './eventlog.js';

export type Rtmrs = readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

export interface ReplayStep {
  readonly event: MeasuredEvent;
  /** The register's value after this event. */
  readonly after: Uint8Array;
}

export interface Replay {
  readonly rtmrs: Rtmrs;
  /** Extending events in log order, with the running value after each. */
  readonly steps: readonly ReplayStep[];
}

export function extendRtmr(current: Uint8Array, digest: Uint8Array): Uint8Array {
  return backend.hashParts('SHA-384', [current, digest]);
}

/** Replays every extending event of the log. */
export function replayEventLog(log: EventLog): Replay {
  const registers: Uint8Array[] = Array.from({ length: RTMR_COUNT }, () => new Uint8Array(RTMR_SIZE));
  const steps: ReplayStep[] = [];
  for (const event of log.events) {
    if (event.rtmr === null) continue;
    const after = extendRtmr(registers[event.rtmr]!, event.digest);
    registers[event.rtmr] = after;
    steps.push({ event, after });
  }
  return { rtmrs: registers as unknown as Rtmrs, steps };
}

export type DivergenceReason = 'digest-mismatch' | 'extra-events' | 'unlocalised' | 'no-events';

export interface RegisterComparison {
  readonly rtmr: number;
  readonly replayed: string;
  readonly quoted: string;
  readonly ok: boolean;
}

export interface Divergence {
  readonly rtmr: number;
  readonly reason: DivergenceReason;
  /** The first diverging event (absent when the register has no events at all). */
  readonly event: MeasuredEvent | undefined;
  readonly message: string;
}

export interface RtmrComparison {
  readonly match: boolean;
  readonly registers: readonly RegisterComparison[];
  /** The earliest diverging event in log order, across registers. */
  readonly firstDivergence: Divergence | undefined;
  readonly divergences: readonly Divergence[];
}

function checkQuoted(quoted: readonly Uint8Array[]): void {
  if (
    quoted.length !== RTMR_COUNT ||
    quoted.some((value) => !(value instanceof Uint8Array) || value.length !== RTMR_SIZE)
  ) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'quoted RTMRs must be four 48-byte values');
  }
}

function locate(rtmr: number, steps: readonly ReplayStep[], quoted: Uint8Array): Divergence {
  const mine = steps.filter((step) => step.event.rtmr === rtmr);
  const tampered = mine.find(
    (step) =>
      step.event.loggedDigest !== undefined && !equalBytes(step.event.loggedDigest, step.event.digest),
  );
  if (tampered !== undefined) {
    return {
      rtmr,
      reason: 'digest-mismatch',
      event: tampered.event,
      message: `event ${describeEvent(tampered.event)}: its content hashes to ${toHex(tampered.event.digest)}, the log says ${toHex(tampered.event.loggedDigest!)}`,
    };
  }
  if (mine.length === 0) {
    return {
      rtmr,
      reason: 'no-events',
      event: undefined,
      message: `RTMR${rtmr}: the log has no events for it, the quote's value is not zero`,
    };
  }
  let prefix = equalBytes(quoted, new Uint8Array(RTMR_SIZE)) ? 0 : -1;
  for (let i = 0; prefix < 0 && i < mine.length; i++) if (equalBytes(mine[i]!.after, quoted)) prefix = i + 1;
  if (prefix >= 0 && prefix < mine.length) {
    const event = mine[prefix]!.event;
    return {
      rtmr,
      reason: 'extra-events',
      event,
      message: `event ${describeEvent(event)}: the quote's RTMR${rtmr} equals the log replayed up to the event before it; this and later events were not measured`,
    };
  }
  const event = mine[0]!.event;
  return {
    rtmr,
    reason: 'unlocalised',
    event,
    message: `RTMR${rtmr}: no prefix of its ${mine.length} events reproduces the quote's value; an event changed or is missing, at or after ${describeEvent(event)}`,
  };
}

/** Compares a replay with the RTMRs of a quote. Pure; never throws for a mismatch. */
export function compareRtmrs(replay: Replay, quoted: readonly Uint8Array[]): RtmrComparison {
  checkQuoted(quoted);
  const registers = replay.rtmrs.map((value, rtmr) => ({
    rtmr,
    replayed: toHex(value),
    quoted: toHex(quoted[rtmr]!),
    ok: equalBytes(value, quoted[rtmr]!),
  }));
  const divergences = registers
    .filter((r) => !r.ok)
    .map((r) => locate(r.rtmr, replay.steps, quoted[r.rtmr]!));
  const ordered = [...divergences].sort(
    (a, b) => (a.event?.index ?? Number.MAX_SAFE_INTEGER) - (b.event?.index ?? Number.MAX_SAFE_INTEGER),
  );
  return { match: divergences.length === 0, registers, firstDivergence: ordered[0], divergences };
}

/** Replays `log` and compares it with the quote's RTMRs; throws POLICY_VIOLATION naming the first diverging event. */
export function assertLogMatchesRtmrs(log: EventLog, quoted: readonly Uint8Array[]): Replay {
  const replay = replayEventLog(log);
  const comparison = compareRtmrs(replay, quoted);
  if (!comparison.match) {
    const first = comparison.firstDivergence!;
    throw new VeriteeError(ErrorCode.POLICY_VIOLATION, 'event log does not reproduce the quote RTMRs', {
      path: `rtmr${first.rtmr}`,
      details: first.message,
    });
  }
  return replay;
}

/**
 * RTMR0–3 of a TDX quote (v4/v5, TD report 1.0 or 1.5), parsed with the DCAP quote parser. Parsing only:
 * the quote's signature and collateral are not checked here (`verify` does that).
 */
export function quoteRtmrs(quote: Uint8Array): Rtmrs {
  const parsed = parseQuote(quote);
  if (parsed.body.kind === 'sgx') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'an SGX quote has no RTMRs; give a TDX quote', {
      path: 'quote',
    });
  }
  return parsed.body.report.rtmr;
}
