/** `veritee measure eif|rtmr`: compute the measurements a build or a boot will produce. */
import { decodeEvidenceInput, toHex } from '../bytes.js';
import { measureEif } from '../measure/eif.js';
import { describeEvent, parseEventLog } from '../measure/eventlog.js';
import { compareRtmrs, quoteRtmrs, replayEventLog } from '../measure/rtmr.js';
import { EXIT, readInput } from './io.js';
import type { CommandOutput } from './verify-command.js';

export interface MeasureEifOptions {
  readonly json?: boolean;
}

/** Prints PCR0/1/2 (and PCR8 for signed images) of an EIF. Exit 0, or 2 for unusable input. */
export function runMeasureEif(file: string, options: MeasureEifOptions): CommandOutput {
  const { image, ...pcrs } = measureEif(readInput(file, 'EIF'));
  const measurements = Object.fromEntries(Object.entries(pcrs).filter(([, value]) => value !== undefined));
  if (options.json) {
    const header = {
      ...image.header,
      defaultMemory: image.header.defaultMemory.toString(),
      defaultCpus: image.header.defaultCpus.toString(),
    };
    const out = {
      platform: 'nitro',
      measurements,
      header,
      sections: image.sections.map((s) => ({ type: s.type, size: s.data.length })),
    };
    return { stdout: `${JSON.stringify(out)}\n`, stderr: '', exitCode: EXIT.accepted };
  }
  const lines = [
    `EIF v${image.header.version} ${image.header.arch}, ${image.sections.length} sections (${image.sections.map((s) => s.type).join(', ')})`,
    ...Object.entries(measurements).map(([name, value]) => `${name.padEnd(5)} ${value}`),
  ];
  return { stdout: `${lines.join('\n')}\n`, stderr: '', exitCode: EXIT.accepted };
}

export interface MeasureRtmrOptions {
  readonly eventLog: string;
  readonly quote?: string;
  readonly json?: boolean;
}

/**
 * Replays an event log (CCEL binary or dstack JSON) into RTMR0–3. With a quote: exit 0 when they match,
 * 1 naming the first diverging event; 2 for unusable input.
 */
export function runMeasureRtmr(options: MeasureRtmrOptions): CommandOutput {
  const log = parseEventLog(readInput(options.eventLog, 'event log'));
  const replay = replayEventLog(log);
  const rtmrs = replay.rtmrs.map(toHex);
  const extended = replay.steps.length;
  if (options.quote === undefined) {
    if (options.json) {
      return {
        stdout: `${JSON.stringify({ format: log.format, events: log.events.length, extended, rtmrs })}\n`,
        stderr: '',
        exitCode: EXIT.accepted,
      };
    }
    const lines = [
      `${log.format} event log: ${log.events.length} events, ${extended} extend an RTMR`,
      ...rtmrs.map((value, i) => `rtmr${i} ${value}`),
    ];
    return { stdout: `${lines.join('\n')}\n`, stderr: '', exitCode: EXIT.accepted };
  }
  const quoted = quoteRtmrs(decodeEvidenceInput(readInput(options.quote, 'quote')));
  const comparison = compareRtmrs(replay, quoted);
  const exitCode = comparison.match ? EXIT.accepted : EXIT.rejected;
  const first = comparison.firstDivergence;
  if (options.json) {
    const out = {
      format: log.format,
      events: log.events.length,
      match: comparison.match,
      registers: comparison.registers,
      firstDivergence:
        first === undefined
          ? null
          : {
              rtmr: first.rtmr,
              reason: first.reason,
              event:
                first.event === undefined
                  ? null
                  : {
                      index: first.event.index,
                      type: first.event.typeName,
                      name: first.event.name,
                      digest: toHex(first.event.digest),
                    },
              message: first.message,
            },
    };
    return { stdout: `${JSON.stringify(out)}\n`, stderr: '', exitCode };
  }
  const lines = [
    `${log.format} event log: ${log.events.length} events, ${extended} extend an RTMR (quote parsed, not verified)`,
    ...comparison.registers.map(
      (r) => `rtmr${r.rtmr} ${r.replayed} ${r.ok ? 'matches the quote' : `DIFFERS (quote ${r.quoted})`}`,
    ),
    comparison.match
      ? 'MATCH: the event log reproduces the quote RTMRs'
      : `MISMATCH: first diverging event ${first?.event === undefined ? '(none)' : describeEvent(first.event)}: ${first?.message}`,
  ];
  return { stdout: `${lines.join('\n')}\n`, stderr: '', exitCode };
}
