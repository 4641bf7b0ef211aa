/**
 * The certificate table an extended report carries (SNP_GET_EXT_REPORT's certificate buffer, the
 * configfs-tsm `auxblob`; GHCB specification, doc 56421, §4.1.8.1 "SNP Extended Guest Request", Table 9
 * "Certificate table entry"): a list of 24-byte entries — GUID (16 bytes, RFC 4122 byte order), offset
 * (u32 LE), length (u32 LE) — ended by an all-zero entry, followed by the certificates. Offsets count from
 * the start of the table.
 *
 * `parseCertTable` is strict: the terminator must be present within the first `MAX_ENTRIES` entries,
 * every entry must point inside the buffer and after the table, entries must not overlap, a GUID may
 * appear once, and bytes that no entry covers must be zero (hosts pad the buffer with zeros).
 *
 * Does not check: the certificates themselves (they are parsed and verified in `verify.ts`).
 */
import { ByteReader, isAllZero, toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';

const ENTRY_SIZE = 24;
/** More entries than any host emits; bounds the loop before anything else is read. */
export const MAX_ENTRIES = 64;

export type CertTableKind = 'vcek' | 'vlek' | 'ask' | 'ark' | 'asvk' | 'crl' | 'other';

// GHCB spec Table 9 and AMD's host tooling: the GUIDs naming each certificate.
const KNOWN_GUIDS: Readonly<Record<string, CertTableKind>> = {
  '63da758d-e664-4564-adc5-f4b93be8accd': 'vcek',
  'a8074bc2-a25a-483e-aae6-39c045a0b8a1': 'vlek',
  '4ab7b379-bbac-4fe4-a02f-05aef327c782': 'ask',
  'c0b406a4-a803-4952-9743-3fb6014cd0ae': 'ark',
  '92f81bc3-5811-4d3d-97ff-d19f88dc67ea': 'crl',
};

export interface CertTableEntry {
  readonly guid: string;
  readonly kind: CertTableKind;
  readonly offset: number;
  /** A copy of the entry's bytes (DER or PEM, as the host stored it). */
  readonly data: Uint8Array;
}

export function formatGuid(bytes: Uint8Array): string {
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function malformed(message: string, path: string, offset?: number, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_MALFORMED, message, { path, offset, details });
}

interface RawEntry {
  readonly guid: Uint8Array;
  readonly offset: number;
  readonly length: number;
  readonly at: number;
}

function readEntries(buffer: Uint8Array, path: string): RawEntry[] {
  const reader = new ByteReader(buffer, path);
  const entries: RawEntry[] = [];
  for (;;) {
    const at = reader.offset;
    if (entries.length > MAX_ENTRIES) {
      throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'certificate table has too many entries', {
        path,
        offset: at,
        details: `at most ${MAX_ENTRIES}`,
      });
    }
    const guid = reader.bytesView(16, `entry[${entries.length}]/guid`);
    const offset = reader.u32(`entry[${entries.length}]/offset`);
    const length = reader.u32(`entry[${entries.length}]/length`);
    if (isAllZero(guid)) {
      if (offset !== 0 || length !== 0) {
        throw malformed('certificate table terminator must be all zero', path, at);
      }
      return entries;
    }
    entries.push({ guid, offset, length, at });
  }
}

/** Parses a certificate table buffer. An empty table (just the terminator) yields no entries. */
export function parseCertTable(input: Uint8Array, path = 'certtable'): CertTableEntry[] {
  if (!(input instanceof Uint8Array)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'certificate table must be a Uint8Array', { path });
  }
  const buffer = input.slice();
  const raw = readEntries(buffer, path);
  const tableEnd = (raw.length + 1) * ENTRY_SIZE;
  const seen = new Set<string>();
  const covered: Array<[number, number]> = [];
  const entries: CertTableEntry[] = [];
  for (const [index, entry] of raw.entries()) {
    const entryPath = `${path}/entry[${index}]`;
    const guid = formatGuid(entry.guid);
    if (seen.has(guid)) throw malformed(`certificate table lists GUID ${guid} twice`, entryPath, entry.at);
    seen.add(guid);
    if (entry.length === 0) throw malformed('certificate table entry is empty', entryPath, entry.at);
    if (entry.offset < tableEnd) {
      throw malformed(
        'certificate table entry points into the table',
        entryPath,
        entry.at,
        `offset ${entry.offset}`,
      );
    }
    const end = entry.offset + entry.length; // both < 2^32: exact in a double
    if (end > buffer.length) {
      throw new VeriteeError(ErrorCode.PARSE_TRUNCATED, 'certificate table entry points past the buffer', {
        path: entryPath,
        offset: entry.at,
        details: `bytes ${entry.offset}..${end}, buffer ${buffer.length}`,
      });
    }
    for (const [from, to] of covered) {
      if (entry.offset < to && from < end) {
        throw malformed(
          'certificate table entries overlap',
          entryPath,
          entry.at,
          `bytes ${entry.offset}..${end}`,
        );
      }
    }
    covered.push([entry.offset, end]);
    entries.push({
      guid,
      kind: KNOWN_GUIDS[guid] ?? 'other',
      offset: entry.offset,
      data: buffer.slice(entry.offset, end),
    });
  }
  checkPaddingIsZero(buffer, tableEnd, covered, path);
  return entries;
}

/** Bytes after the table that no entry covers must be zero. */
function checkPaddingIsZero(
  buffer: Uint8Array,
  tableEnd: number,
  covered: ReadonlyArray<readonly [number, number]>,
  path: string,
): void {
  const sorted = [...covered].sort((a, b) => a[0] - b[0]);
  let position = tableEnd;
  const checkGap = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      if (buffer[i] !== 0) throw malformed('certificate table has data outside any entry', path, i);
    }
  };
  for (const [from, to] of sorted) {
    checkGap(position, from);
    position = to;
  }
  checkGap(position, buffer.length);
}

/** The single entry of `kind`, or undefined. Fails if a kind that must be unique appears twice. */
export function findEntry(
  entries: readonly CertTableEntry[],
  kind: CertTableKind,
): CertTableEntry | undefined {
  const matches = entries.filter((entry) => entry.kind === kind);
  if (matches.length > 1) {
    throw malformed(`certificate table has ${matches.length} ${kind} entries`, 'certtable');
  }
  return matches[0];
}
