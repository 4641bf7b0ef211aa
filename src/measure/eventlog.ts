/**
 * TDX event logs: the firmware's CCEL log (TCG crypto-agile binary format) and dstack's JSON event log,
 * parsed strictly into one event model that `rtmr.ts` replays.
 *
 * Sources (facts only):
 * - TCG PC Client Platform Firmware Profile Specification (PFP) 1.05: §10.2.1 `TCG_PCR_EVENT` (the first,
 *   SHA-1-format event), §10.2.2 `TCG_PCR_EVENT2` and `TPML_DIGEST_VALUES`, §10.4.5.1
 *   `TCG_EfiSpecIdEvent` ("Spec ID Event03"), §10.4.1 event types (table 9); TPM 2.0 Part 2 §6.3 algorithm
 *   IDs (SHA-384 = 0x000C).
 * - UEFI 2.10 §38.4 `EFI_CC_MEASUREMENT_PROTOCOL` and ACPI 6.5 §5.2.34 (CCEL table): a CC event's
 *   `MrIndex` is 0 for MRTD and 1–4 for RTMR0–3; the log area is padded with 0xFF after the last event.
 * - dstack (Dstack-TEE/dstack, `cc-eventlog`): the JSON event log is a list of
 *   `{imr, event_type, digest, event, event_payload}` (hex digest and payload); runtime events
 *   (`event_type` 0x08000001) have digest `SHA-384(u32_le(event_type) ‖ ":" ‖ event ‖ ":" ‖ payload)`.
 *
 * What this module does not check: that a firmware event's data hashes to its logged digest (firmware
 * events hash many different structures — PE images, GPT tables, variables — so CCEL digests and dstack's
 * RTMR0–2 digests are taken from the log). dstack runtime events are the exception: their digest is
 * always recomputed from type, name and payload, and a logged digest that disagrees is reported.
 */
import { backend } from '#crypto';
import { ByteReader, fromHex, toHex, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';

/** TPM_ALG_SHA384 (TPM 2.0 Part 2, table 9). */
export const TPM_ALG_SHA384 = 0x000c;
/** EV_NO_ACTION: informational, never extended (PFP §10.4.1). */
export const EV_NO_ACTION = 0x00000003;
/** dstack's runtime event type (RTMR3 application events). */
export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;
export const RTMR_SIZE = 48;
export const RTMR_COUNT = 4;
/** Upper bound on events in one log; every event consumes bytes, so this only bounds memory. */
export const MAX_EVENTS = 100_000;
const SPEC_ID_SIGNATURE = 'Spec ID Event03\0';

/** TCG PFP table 9 (and EFI event types); unknown types are kept by number. */
const EVENT_TYPE_NAMES: Record<number, string> = {
  1: 'EV_POST_CODE',
  3: 'EV_NO_ACTION',
  4: 'EV_SEPARATOR',
  5: 'EV_ACTION',
  6: 'EV_EVENT_TAG',
  7: 'EV_S_CRTM_CONTENTS',
  8: 'EV_S_CRTM_VERSION',
  9: 'EV_CPU_MICROCODE',
  10: 'EV_PLATFORM_CONFIG_FLAGS',
  11: 'EV_TABLE_OF_DEVICES',
  12: 'EV_COMPACT_HASH',
  13: 'EV_IPL',
  14: 'EV_IPL_PARTITION_DATA',
  15: 'EV_NONHOST_CODE',
  16: 'EV_NONHOST_CONFIG',
  17: 'EV_NONHOST_INFO',
  18: 'EV_OMIT_BOOT_DEVICE_EVENTS',
  2147483649: 'EV_EFI_VARIABLE_DRIVER_CONFIG',
  2147483650: 'EV_EFI_VARIABLE_BOOT',
  2147483651: 'EV_EFI_BOOT_SERVICES_APPLICATION',
  2147483652: 'EV_EFI_BOOT_SERVICES_DRIVER',
  2147483653: 'EV_EFI_RUNTIME_SERVICES_DRIVER',
  2147483654: 'EV_EFI_GPT_EVENT',
  2147483655: 'EV_EFI_ACTION',
  2147483656: 'EV_EFI_PLATFORM_FIRMWARE_BLOB',
  2147483657: 'EV_EFI_HANDOFF_TABLES',
  2147483658: 'EV_EFI_PLATFORM_FIRMWARE_BLOB2',
  2147483659: 'EV_EFI_HANDOFF_TABLES2',
  2147483660: 'EV_EFI_VARIABLE_BOOT2',
  2147483872: 'EV_EFI_VARIABLE_AUTHORITY',
  [DSTACK_RUNTIME_EVENT_TYPE]: 'DSTACK_RUNTIME_EVENT',
};

export function eventTypeName(type: number): string {
  return EVENT_TYPE_NAMES[type] ?? `0x${type.toString(16).padStart(8, '0')}`;
}

export type RtmrIndex = 0 | 1 | 2 | 3;

export interface MeasuredEvent {
  /** Position in the log (0-based, counting every event including EV_NO_ACTION). */
  readonly index: number;
  /** The RTMR this event extends, or null for events that are not extended (EV_NO_ACTION). */
  readonly rtmr: RtmrIndex | null;
  readonly type: number;
  readonly typeName: string;
  /** dstack event name (`app-id`, `compose-hash`, …); empty for firmware events. */
  readonly name: string;
  /** Event data (TCG) or payload (dstack). */
  readonly data: Uint8Array;
  /** The SHA-384 digest the replay extends with (recomputed for dstack runtime events). */
  readonly digest: Uint8Array;
  /** The digest as written in the log, when there is one. */
  readonly loggedDigest: Uint8Array | undefined;
  /** Where `digest` came from. */
  readonly digestSource: 'logged' | 'recomputed';
}

export interface EventLog {
  readonly format: 'tcg' | 'dstack';
  readonly events: readonly MeasuredEvent[];
}

export interface SpecIdEvent {
  readonly platformClass: number;
  readonly specVersion: string;
  readonly uintnSize: number;
  /** Algorithm id → digest size, in log order. */
  readonly algorithms: ReadonlyMap<number, number>;
}

function invalid(message: string, path: string, offset?: number): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, message, { path, offset });
}

// ---------------------------------------------------------------------------------------------------
// TCG crypto-agile log (CCEL)

/** PFP §10.4.5.1: the Spec ID event that opens every crypto-agile log. */
function parseSpecId(data: Uint8Array, base: number): SpecIdEvent {
  const reader = new ByteReader(data, 'tcg/events[0]/event');
  const at = (): number => base + reader.offset;
  const signature = reader.bytesView(16, 'signature');
  if (String.fromCharCode(...signature) !== SPEC_ID_SIGNATURE) {
    throw new VeriteeError(ErrorCode.FORMAT_UNKNOWN, 'first event is not "Spec ID Event03"', {
      path: 'tcg/events[0]/event/signature',
      offset: base,
    });
  }
  const platformClass = reader.u32('platformClass');
  const minor = reader.u8('specVersionMinor');
  const major = reader.u8('specVersionMajor');
  const errata = reader.u8('specErrata');
  const uintnSize = reader.u8('uintnSize');
  const count = reader.u32('numberOfAlgorithms');
  if (count === 0 || count > 16) {
    throw invalid(
      `numberOfAlgorithms ${count} is not 1–16`,
      'tcg/events[0]/event/numberOfAlgorithms',
      at() - 4,
    );
  }
  const algorithms = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const offset = at();
    const id = reader.u16(`digestSizes[${i}]/algorithmId`);
    const size = reader.u16(`digestSizes[${i}]/digestSize`);
    if (algorithms.has(id) || size === 0 || size > 64) {
      throw invalid(`bad algorithm entry ${id}/${size}`, `tcg/events[0]/event/digestSizes[${i}]`, offset);
    }
    algorithms.set(id, size);
  }
  const vendorSize = reader.u8('vendorInfoSize');
  reader.skip(vendorSize, 'vendorInfo');
  reader.finish('vendorInfo');
  if (algorithms.get(TPM_ALG_SHA384) !== RTMR_SIZE) {
    throw new VeriteeError(
      ErrorCode.UNSUPPORTED,
      'event log has no SHA-384 digests (TDX RTMRs are SHA-384)',
      {
        path: 'tcg/events[0]/event/digestSizes',
        offset: base,
      },
    );
  }
  return { platformClass, specVersion: `${major}.${minor}.${errata}`, uintnSize, algorithms };
}

function allBytesAre(bytes: Uint8Array, value: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== value) return false;
  return true;
}

/** The log ends at the end of the input or where only 0xFF (CCEL) or 0x00 padding remains. */
function atEnd(bytes: Uint8Array, offset: number): boolean {
  if (offset === bytes.length) return true;
  const rest = bytes.subarray(offset);
  const first = rest[0]!;
  if ((first === 0xff || first === 0x00) && allBytesAre(rest, first)) return true;
  return false;
}

/** CCEL MrIndex → RTMR (UEFI 2.10 §38.4.1: 0 = MRTD, 1–4 = RTMR0–3). */
function rtmrOfMrIndex(mrIndex: number, type: number, path: string, offset: number): RtmrIndex | null {
  if (type === EV_NO_ACTION) return null;
  if (mrIndex >= 1 && mrIndex <= 4) return (mrIndex - 1) as RtmrIndex;
  throw invalid(`MR index ${mrIndex} is not an RTMR (1–4)`, `${path}/mrIndex`, offset);
}

/**
 * Parses a TCG crypto-agile event log as a TDX guest's CCEL holds it. Events that are not EV_NO_ACTION
 * must carry a SHA-384 digest for MR index 1–4. Trailing 0xFF or 0x00 padding ends the log.
 */
export function parseTcgEventLog(bytes: Uint8Array): EventLog & { readonly specId: SpecIdEvent } {
  if (!(bytes instanceof Uint8Array))
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'event log must be bytes');
  const reader = new ByteReader(bytes, 'tcg');
  // §10.2.1: TCG_PCR_EVENT with a 20-byte SHA-1 digest field, here EV_NO_ACTION carrying the Spec ID.
  const pcr = reader.u32('events[0]/pcrIndex');
  const type = reader.u32('events[0]/eventType');
  // PFP §10.4.5.1 puts the Spec ID event in PCR 0; a CCEL log (EDK2/TDVF) records it with MrIndex 1.
  if (pcr > 1 || type !== EV_NO_ACTION) {
    throw new VeriteeError(ErrorCode.FORMAT_UNKNOWN, 'not a TCG crypto-agile event log (first event)', {
      path: 'tcg/events[0]',
      offset: 0,
    });
  }
  reader.zeros(20, 'events[0]/digest');
  const size = reader.u32('events[0]/eventSize');
  const base = reader.offset;
  const specId = parseSpecId(reader.bytesView(size, 'events[0]/event'), base);
  const events: MeasuredEvent[] = [];
  while (!atEnd(bytes, reader.offset)) {
    if (events.length >= MAX_EVENTS) {
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, `more than ${MAX_EVENTS} events`, {
        path: 'tcg',
      });
    }
    events.push(parseEvent2(reader, specId, events.length + 1));
  }
  return { format: 'tcg', events, specId };
}

/** §10.2.2 TCG_PCR_EVENT2: pcrIndex, eventType, TPML_DIGEST_VALUES, eventSize, event. */
function parseEvent2(reader: ByteReader, specId: SpecIdEvent, index: number): MeasuredEvent {
  const path = `events[${index}]`;
  const start = reader.offset;
  const mrIndex = reader.u32(`${path}/pcrIndex`);
  const type = reader.u32(`${path}/eventType`);
  const count = reader.u32(`${path}/digests/count`);
  if (count !== specId.algorithms.size) {
    throw invalid(
      `event has ${count} digests, the Spec ID event declares ${specId.algorithms.size}`,
      `tcg/${path}/digests/count`,
      start + 8,
    );
  }
  let sha384: Uint8Array | undefined;
  for (let i = 0; i < count; i++) {
    const offset = reader.offset;
    const algorithm = reader.u16(`${path}/digests[${i}]/hashAlg`);
    const digestSize = specId.algorithms.get(algorithm);
    if (digestSize === undefined) {
      throw invalid(
        `digest algorithm 0x${algorithm.toString(16)} is not declared in the Spec ID event`,
        `tcg/${path}/digests[${i}]/hashAlg`,
        offset,
      );
    }
    const digest = reader.take(digestSize, `${path}/digests[${i}]/digest`);
    if (algorithm === TPM_ALG_SHA384) {
      if (sha384 !== undefined)
        throw invalid('two SHA-384 digests in one event', `tcg/${path}/digests[${i}]`, offset);
      sha384 = digest;
    }
  }
  const size = reader.u32(`${path}/eventSize`);
  const data = reader.take(size, `${path}/event`);
  const rtmr = rtmrOfMrIndex(mrIndex, type, `tcg/${path}`, start);
  if (sha384 === undefined) throw invalid('event has no SHA-384 digest', `tcg/${path}/digests`, start + 8);
  return {
    index,
    rtmr,
    type,
    typeName: eventTypeName(type),
    name: '',
    data,
    digest: sha384,
    loggedDigest: sha384,
    digestSource: 'logged',
  };
}

// ---------------------------------------------------------------------------------------------------
// dstack JSON event log

const DSTACK_KEYS = ['imr', 'event_type', 'digest', 'event', 'event_payload'];

/** `SHA-384(u32_le(type) ‖ ":" ‖ name ‖ ":" ‖ payload)` — dstack's runtime event digest. */
export function dstackEventDigest(type: number, name: string, payload: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, type, true);
  return backend.hashParts('SHA-384', [prefix, utf8Encode(`:${name}:`), payload]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dstackHex(value: unknown, path: string): Uint8Array {
  if (typeof value !== 'string')
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'must be a hex string', { path });
  if (!/^[0-9a-fA-F]*$/.test(value))
    throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'invalid hex', { path });
  return fromHex(value, path);
}

function dstackUint(value: unknown, path: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, `must be an integer 0–${max}`, { path });
  }
  return value;
}

function parseDstackEvent(value: unknown, index: number): MeasuredEvent {
  const path = `dstack/events[${index}]`;
  if (!isObject(value))
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'event must be an object', { path });
  for (const key of Object.keys(value)) {
    if (!DSTACK_KEYS.includes(key))
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field "${key}"`, {
        path: `${path}/${key}`,
      });
  }
  for (const key of DSTACK_KEYS) {
    if (!(key in value))
      throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, `missing field "${key}"`, {
        path: `${path}/${key}`,
      });
  }
  const imr = dstackUint(value.imr, `${path}/imr`, 3) as RtmrIndex;
  const type = dstackUint(value.event_type, `${path}/event_type`, 0xffffffff);
  if (typeof value.event !== 'string')
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'must be a string', { path: `${path}/event` });
  const name = value.event;
  const data = dstackHex(value.event_payload, `${path}/event_payload`);
  const logged = dstackHex(value.digest, `${path}/digest`);
  if (logged.length !== 0 && logged.length !== RTMR_SIZE) {
    throw invalid(`digest must be ${RTMR_SIZE} bytes, got ${logged.length}`, `${path}/digest`);
  }
  const loggedDigest = logged.length === 0 ? undefined : logged;
  const rtmr = type === EV_NO_ACTION ? null : imr;
  if (type === DSTACK_RUNTIME_EVENT_TYPE) {
    return {
      index,
      rtmr,
      type,
      typeName: eventTypeName(type),
      name,
      data,
      digest: dstackEventDigest(type, name, data),
      loggedDigest,
      digestSource: 'recomputed',
    };
  }
  if (loggedDigest === undefined) {
    throw new VeriteeError(
      ErrorCode.PARSE_MISSING_FIELD,
      'firmware event has no digest (it cannot be recomputed)',
      {
        path: `${path}/digest`,
      },
    );
  }
  return {
    index,
    rtmr,
    type,
    typeName: eventTypeName(type),
    name,
    data,
    digest: loggedDigest,
    loggedDigest,
    digestSource: 'logged',
  };
}

/**
 * Parses dstack's JSON event log: the array itself, its JSON text, or an object carrying it as
 * `event_log` (array or JSON string, as in dstack's `GetQuote` response and `tcb_info`).
 */
export function parseDstackEventLog(input: unknown): EventLog {
  let value = input;
  if (typeof value === 'string') value = parseJson(value, 'dstack');
  if (isObject(value) && 'event_log' in value) {
    value =
      typeof value.event_log === 'string' ? parseJson(value.event_log, 'dstack/event_log') : value.event_log;
  }
  if (!Array.isArray(value)) {
    throw new VeriteeError(
      ErrorCode.PARSE_UNEXPECTED_TYPE,
      'dstack event log must be a JSON array of events',
      { path: 'dstack' },
    );
  }
  if (value.length > MAX_EVENTS) {
    throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, `more than ${MAX_EVENTS} events`, {
      path: 'dstack',
    });
  }
  return { format: 'dstack', events: value.map((event, i) => parseDstackEvent(event, i)) };
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'not valid JSON', {
      path,
      details: error instanceof Error ? error.message.slice(0, 120) : undefined,
    });
  }
}

/** Detects the format of raw event-log bytes: JSON (dstack) or binary TCG (CCEL). */
export function parseEventLog(bytes: Uint8Array): EventLog {
  let first = 0;
  while (first < bytes.length && /\s/.test(String.fromCharCode(bytes[first]!))) first++;
  const head = bytes[first];
  if (head === 0x5b /* [ */ || head === 0x7b /* { */) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'event log JSON is not valid UTF-8', {
        path: 'dstack',
      });
    }
    return parseDstackEventLog(text);
  }
  return parseTcgEventLog(bytes);
}

/** Short description of an event for messages: `#17 RTMR3 DSTACK_RUNTIME_EVENT "compose-hash"`. */
export function describeEvent(event: MeasuredEvent): string {
  const register = event.rtmr === null ? 'not extended' : `RTMR${event.rtmr}`;
  const name = event.name === '' ? '' : ` "${event.name}"`;
  return `#${event.index} ${register} ${event.typeName}${name}`;
}

/** Hex of an event's digest, for reports. */
export function eventDigestHex(event: MeasuredEvent): string {
  return toHex(event.digest);
}
