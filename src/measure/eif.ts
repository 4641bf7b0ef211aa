/**
 * AWS Nitro Enclave Image Format (EIF): a strict parser and the PCR0/1/2/8 calculator.
 *
 * Sources (facts only; no code copied):
 * - Layout: aws/aws-nitro-enclaves-image-format `src/defs/mod.rs` (`EifHeader`, `EifSectionHeader`,
 *   `EifSectionType`, `PcrSignature`, `CURRENT_VERSION = 4`, `MAX_NUM_SECTIONS = 32`,
 *   `EIF_HDR_ARCH_ARM64 = 0x1`). All integers are big-endian.
 * - CRC and measurement: the same repository, `src/utils/eif_reader.rs` (`EifReader::from_eif`) and
 *   `src/defs/eif_hasher.rs` (`EifHasher::new_without_cache`, `tpm_extend_finalize_reset`).
 * - PCR meanings: AWS Nitro Enclaves User Guide, "Where to get an enclave's measurements" (PCR0 enclave
 *   image file, PCR1 Linux kernel and bootstrap, PCR2 application, PCR8 signing certificate).
 *
 * ## Layout (big-endian)
 *
 * ```
 * header (548 bytes)
 *   0  magic        4   ".eif" (2e 65 69 66)
 *   4  version      u16 1..4 (v2 added the CRC, v3 the signature section, v4 the metadata section)
 *   6  flags        u16 bit 0: aarch64 (else x86_64); other bits unused
 *   8  default_mem  u64
 *  16  default_cpus u64
 *  24  reserved     u16
 *  26  num_sections u16 ≤ 32
 *  28  section_offsets [u64; 32]
 * 284  section_sizes   [u64; 32]
 * 540  unused       u32
 * 544  eif_crc32    u32 CRC-32/IEEE over every byte of the file except these four
 * sections, each: section_type u16 (1 kernel, 2 cmdline, 3 ramdisk, 4 signature, 5 metadata),
 *                 flags u16, section_size u64, then section_size bytes of data
 * ```
 *
 * ## Measurement (what `nitro-cli build-enclave` / `describe-eif` print)
 *
 * Each PCR is one TPM-style extend of 48 zero bytes with the SHA-384 of the concatenated data:
 * `PCR = SHA-384(0^48 ‖ SHA-384(data))`.
 * - PCR0 data: every kernel, cmdline and ramdisk section's data, in file order;
 * - PCR1 data: the kernel, the cmdline and the *first* ramdisk (the bootstrap ramdisk AWS ships);
 * - PCR2 data: every ramdisk after the first (the application);
 * - PCR8 data: the DER of the signing certificate in the first signature entry (only for signed EIFs).
 * Metadata and signature sections are not part of PCR0–2.
 *
 * ## Strictness (beyond what AWS's reader checks)
 *
 * The parser refuses: an unknown version or flag bit; non-zero `reserved`/`unused`; offsets or sizes
 * listed past `num_sections`; a section whose header disagrees with the header table; gaps, overlaps or
 * trailing bytes (sections must follow each other from byte 548 to the end of the file); section flags;
 * unknown section types; not exactly one kernel and one cmdline; no ramdisk; more than one signature or
 * metadata section; a wrong CRC. Section data are views into the input (images are large): keep the input
 * unchanged while the parsed image is in use.
 *
 * Not checked here: the COSE signature inside the signature section (see `verifyEifSignature`), that the
 * kernel boots, or what the ramdisks contain.
 */
import { backend } from '#crypto';
import { ByteReader, equalBytes, fromHex, toHex, utf8Decode } from '../bytes.js';
import { type CborValue, decodeCbor, expectArray, expectMap } from '../cbor.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { parseCertificate, pemToDer, publicKeyOf } from '../pki/certificate.js';
import { COSE_ALG, parseCoseSign1, sigStructure } from '../platforms/nitro/cose.js';
import { Crc32 } from './crc32.js';

export const EIF_MAGIC = Uint8Array.of(0x2e, 0x65, 0x69, 0x66);
export const EIF_HEADER_SIZE = 548;
export const EIF_SECTION_HEADER_SIZE = 12;
export const EIF_MAX_SECTIONS = 32;
/** Offset of the CRC field (the last four header bytes). */
const CRC_OFFSET = 544;
export const EIF_FLAG_ARM64 = 0x1;
const MIN_VERSION = 2;
const MAX_VERSION = 4;
/** PCR width for Nitro Enclaves (SHA-384). */
export const NITRO_PCR_SIZE = 48;

export type EifSectionType = 'kernel' | 'cmdline' | 'ramdisk' | 'signature' | 'metadata';
const SECTION_TYPES: Record<number, EifSectionType> = {
  1: 'kernel',
  2: 'cmdline',
  3: 'ramdisk',
  4: 'signature',
  5: 'metadata',
};

export interface EifHeader {
  readonly version: number;
  readonly flags: number;
  readonly arch: 'x86_64' | 'aarch64';
  readonly defaultMemory: bigint;
  readonly defaultCpus: bigint;
  readonly sectionCount: number;
  readonly crc32: number;
}

export interface EifSection {
  readonly type: EifSectionType;
  /** Offset of the section header in the file. */
  readonly offset: number;
  /** The section's data (a view into the input). */
  readonly data: Uint8Array;
}

/** One entry of the signature section (a serde_cbor `PcrSignature`). */
export interface EifSignatureEntry {
  /** DER of the signing certificate (the entry holds it as PEM). */
  readonly certificateDer: Uint8Array;
  /** COSE_Sign1 over the CBOR `PcrInfo {register_index, register_value}`. */
  readonly coseSign1: Uint8Array;
}

export interface EifImage {
  readonly header: EifHeader;
  readonly sections: readonly EifSection[];
  readonly kernel: Uint8Array;
  readonly cmdline: Uint8Array;
  readonly ramdisks: readonly Uint8Array[];
  /** Present when the EIF is signed. */
  readonly signature?: readonly EifSignatureEntry[] | undefined;
  /** The metadata section's JSON (EIF v4), when present. */
  readonly metadata?: unknown;
}

export interface EifPcrs {
  readonly pcr0: string;
  readonly pcr1: string;
  readonly pcr2: string;
  /** Only for signed images. */
  readonly pcr8?: string | undefined;
}

function malformed(message: string, path: string, offset?: number): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_MALFORMED, message, { path, offset });
}

/** Reads a u64 that must fit the input (so it is a safe JS number). */
function boundedU64(reader: ByteReader, field: string, limit: number): number {
  const offset = reader.offset;
  const value = reader.u64be(field);
  if (value > BigInt(limit)) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, `${field} ${value} exceeds the file size`, {
      path: `eif/${field}`,
      offset,
    });
  }
  return Number(value);
}

interface RawHeader extends EifHeader {
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
}

function parseHeader(bytes: Uint8Array): RawHeader {
  const reader = new ByteReader(bytes.subarray(0, Math.min(bytes.length, EIF_HEADER_SIZE)), 'eif/header');
  const magic = reader.bytesView(4, 'magic');
  if (!magic.every((byte, i) => byte === EIF_MAGIC[i])) {
    throw new VeriteeError(ErrorCode.FORMAT_UNKNOWN, 'not an EIF file (magic is not ".eif")', {
      path: 'eif/header/magic',
      offset: 0,
    });
  }
  const version = reader.u16be('version');
  if (version < MIN_VERSION || version > MAX_VERSION) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, `EIF version ${version} is not supported (2–4)`, {
      path: 'eif/header/version',
      offset: 4,
    });
  }
  const flags = reader.u16be('flags');
  if ((flags & ~EIF_FLAG_ARM64) !== 0) {
    throw new VeriteeError(
      ErrorCode.PARSE_INVALID_VALUE,
      `unknown EIF header flags 0x${flags.toString(16)}`,
      {
        path: 'eif/header/flags',
        offset: 6,
      },
    );
  }
  const defaultMemory = reader.u64be('default_mem');
  const defaultCpus = reader.u64be('default_cpus');
  reader.zeros(2, 'reserved');
  const sectionCount = reader.u16be('num_sections');
  if (sectionCount === 0 || sectionCount > EIF_MAX_SECTIONS) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, `num_sections ${sectionCount} is not 1–32`, {
      path: 'eif/header/num_sections',
      offset: 26,
    });
  }
  const offsets = readTable(reader, 'section_offsets', sectionCount, bytes.length);
  const sizes = readTable(reader, 'section_sizes', sectionCount, bytes.length);
  reader.zeros(4, 'unused');
  const crc32 = reader.u32be('eif_crc32');
  reader.finish();
  return {
    version,
    flags,
    arch: (flags & EIF_FLAG_ARM64) !== 0 ? 'aarch64' : 'x86_64',
    defaultMemory,
    defaultCpus,
    sectionCount,
    crc32,
    offsets,
    sizes,
  };
}

/** Reads a 32-entry u64 table; entries at or past `count` must be zero. */
function readTable(reader: ByteReader, name: string, count: number, limit: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < EIF_MAX_SECTIONS; i++) {
    const offset = reader.offset;
    const value = boundedU64(reader, `header/${name}[${i}]`, limit);
    if (i >= count && value !== 0) {
      throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, `${name}[${i}] is set past num_sections`, {
        path: `eif/header/${name}[${i}]`,
        offset,
      });
    }
    if (i < count) out.push(value);
  }
  return out;
}

function parseSection(
  bytes: Uint8Array,
  header: RawHeader,
  index: number,
  expectedOffset: number,
): EifSection {
  const path = `eif/sections[${index}]`;
  const offset = header.offsets[index]!;
  if (offset !== expectedOffset) {
    throw malformed(
      `section ${index} starts at ${offset}, expected ${expectedOffset} (sections must be contiguous)`,
      `${path}/offset`,
      28 + 8 * index,
    );
  }
  const reader = new ByteReader(bytes.subarray(offset), path);
  const typeCode = reader.u16be('section_type');
  const type = SECTION_TYPES[typeCode];
  if (type === undefined) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, `unknown EIF section type ${typeCode}`, {
      path: `${path}/section_type`,
      offset,
    });
  }
  const flags = reader.u16be('flags');
  if (flags !== 0) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, `section flags must be zero, got ${flags}`, {
      path: `${path}/flags`,
      offset: offset + 2,
    });
  }
  const size = reader.u64be('section_size');
  if (size !== BigInt(header.sizes[index]!)) {
    throw malformed(
      `section ${index} size ${size} differs from the header table (${header.sizes[index]})`,
      `${path}/section_size`,
      offset + 4,
    );
  }
  const data = reader.bytesView(header.sizes[index]!, 'data');
  return { type, offset, data };
}

function computeCrc(bytes: Uint8Array, end: number): number {
  return new Crc32().update(bytes.subarray(0, CRC_OFFSET)).update(bytes.subarray(EIF_HEADER_SIZE, end)).value;
}

function single(
  sections: readonly EifSection[],
  type: EifSectionType,
  required: boolean,
): Uint8Array | undefined {
  const found = sections.filter((section) => section.type === type);
  if (found.length > 1) throw malformed(`more than one ${type} section`, 'eif/sections');
  if (required && found.length === 0) {
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, `EIF has no ${type} section`, {
      path: 'eif/sections',
    });
  }
  return found[0]?.data;
}

/** Parses an EIF file strictly (see the module comment). Section data are views into `bytes`. */
export function parseEif(bytes: Uint8Array): EifImage {
  if (!(bytes instanceof Uint8Array)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'EIF input must be a Uint8Array');
  }
  const header = parseHeader(bytes);
  const sections: EifSection[] = [];
  let next = EIF_HEADER_SIZE;
  for (let i = 0; i < header.sectionCount; i++) {
    const section = parseSection(bytes, header, i, next);
    sections.push(section);
    next = section.offset + EIF_SECTION_HEADER_SIZE + section.data.length;
  }
  if (next !== bytes.length) {
    throw new VeriteeError(
      ErrorCode.PARSE_TRAILING_BYTES,
      `${bytes.length - next} bytes after the last section`,
      {
        path: 'eif',
        offset: next,
      },
    );
  }
  const crc = computeCrc(bytes, next);
  if (crc !== header.crc32) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'EIF CRC-32 does not match the file', {
      path: 'eif/header/eif_crc32',
      offset: CRC_OFFSET,
      details: `header 0x${header.crc32.toString(16)}, computed 0x${crc.toString(16)}`,
    });
  }
  const kernel = single(sections, 'kernel', true)!;
  const cmdline = single(sections, 'cmdline', true)!;
  const ramdisks = sections.filter((section) => section.type === 'ramdisk').map((section) => section.data);
  if (ramdisks.length === 0) {
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'EIF has no ramdisk section', {
      path: 'eif/sections',
    });
  }
  const signatureBytes = single(sections, 'signature', false);
  const metadataBytes = single(sections, 'metadata', false);
  const { offsets: _offsets, sizes: _sizes, ...publicHeader } = header;
  return {
    header: publicHeader,
    sections,
    kernel,
    cmdline,
    ramdisks,
    signature: signatureBytes === undefined ? undefined : parseSignatureSection(signatureBytes),
    metadata: metadataBytes === undefined ? undefined : parseMetadata(metadataBytes),
  };
}

function parseMetadata(bytes: Uint8Array): unknown {
  const text = utf8Decode(bytes, 'eif/metadata');
  try {
    return JSON.parse(text);
  } catch {
    throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'EIF metadata section is not valid JSON', {
      path: 'eif/metadata',
    });
  }
}

/**
 * serde_cbor writes `Vec<u8>` as an array of small integers (no `serde_bytes` in `PcrSignature`); a byte
 * string is accepted too.
 */
function byteField(value: CborValue | undefined, path: string): Uint8Array {
  if (value instanceof Uint8Array) return value.slice();
  const items = expectArray(value, path);
  const out = new Uint8Array(items.length);
  items.forEach((item, i) => {
    if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > 255) {
      throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'byte array element is not 0–255', {
        path: `${path}[${i}]`,
      });
    }
    out[i] = item;
  });
  return out;
}

const SIGNATURE_KEYS = ['signing_certificate', 'signature'];

/** The signature section: CBOR array of `{signing_certificate: PEM bytes, signature: COSE_Sign1 bytes}`. */
export function parseSignatureSection(bytes: Uint8Array): EifSignatureEntry[] {
  const path = 'eif/signature';
  const entries = expectArray(decodeCbor(bytes, { path, maxDepth: 4, maxItems: 1 << 20 }), path);
  if (entries.length === 0) throw malformed('signature section is an empty list', path);
  return entries.map((entry, i) => {
    const entryPath = `${path}[${i}]`;
    const map = expectMap(entry, entryPath);
    for (const key of map.entries.keys()) {
      if (!SIGNATURE_KEYS.includes(String(key))) {
        throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field ${String(key)}`, {
          path: entryPath,
        });
      }
    }
    const pemBytes = byteField(
      required(map.get('signing_certificate'), `${entryPath}/signing_certificate`),
      `${entryPath}/signing_certificate`,
    );
    const ders = pemToDer(utf8Decode(pemBytes, `${entryPath}/signing_certificate`));
    if (ders.length !== 1) {
      throw malformed(
        `signing_certificate must hold one PEM certificate, found ${ders.length}`,
        `${entryPath}/signing_certificate`,
      );
    }
    const certificateDer = ders[0]!;
    parseCertificate(certificateDer, `${entryPath}/signing_certificate`);
    const coseSign1 = byteField(
      required(map.get('signature'), `${entryPath}/signature`),
      `${entryPath}/signature`,
    );
    return { certificateDer, coseSign1 };
  });
}

function required(value: CborValue | undefined, path: string): CborValue {
  if (value === undefined) throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'missing field', { path });
  return value;
}

/** `SHA-384(0^48 ‖ SHA-384(parts…))`: one extend of a zeroed PCR with the digest of the data. */
export function nitroPcr(parts: readonly Uint8Array[]): Uint8Array {
  const digest = backend.hashParts('SHA-384', parts);
  return backend.hashParts('SHA-384', [new Uint8Array(NITRO_PCR_SIZE), digest]);
}

/** PCR0, PCR1, PCR2 (and PCR8 when signed) of a parsed EIF, lowercase hex. */
export function eifPcrs(image: EifImage): EifPcrs {
  const measured = image.sections.filter(
    (section) => section.type === 'kernel' || section.type === 'cmdline' || section.type === 'ramdisk',
  );
  const bootstrap: Uint8Array[] = [];
  const application: Uint8Array[] = [];
  let ramdiskIndex = 0;
  for (const section of measured) {
    if (section.type !== 'ramdisk') bootstrap.push(section.data);
    else if (ramdiskIndex++ === 0) bootstrap.push(section.data);
    else application.push(section.data);
  }
  const certificate = image.signature?.[0]?.certificateDer;
  return {
    pcr0: toHex(nitroPcr(measured.map((section) => section.data))),
    pcr1: toHex(nitroPcr(bootstrap)),
    pcr2: toHex(nitroPcr(application)),
    pcr8: certificate === undefined ? undefined : toHex(nitroPcr([certificate])),
  };
}

/** Parses an EIF and returns its PCRs. */
export function measureEif(bytes: Uint8Array): EifPcrs & { readonly image: EifImage } {
  const image = parseEif(bytes);
  return { ...eifPcrs(image), image };
}

/**
 * Checks the first signature entry of a signed EIF: its COSE_Sign1 (ES384 only) verifies under the
 * signing certificate's key, and its payload is the CBOR `PcrInfo {register_index: 0, register_value}`
 * whose value equals `pcr0` (as `describe-eif` checks, eif_reader.rs `get_certificate_info`).
 * Does not check who the certificate belongs to, its validity dates or any chain: PCR8 pins the
 * certificate itself. Throws SIG_INVALID or a PARSE_ error; returns normally when the signature holds.
 */
export async function verifyEifSignature(image: EifImage, pcr0Hex: string): Promise<void> {
  const entry = image.signature?.[0];
  if (entry === undefined) {
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'EIF is not signed', { path: 'eif/signature' });
  }
  const path = 'eif/signature[0]/signature';
  const cose = parseCoseSign1(entry.coseSign1, path);
  if (cose.alg !== COSE_ALG.ES384) {
    throw new VeriteeError(ErrorCode.SIG_ALGORITHM_UNSUPPORTED, `COSE alg ${cose.alg} is not ES384`, {
      path,
    });
  }
  const certificate = parseCertificate(entry.certificateDer, 'eif/signature[0]/signing_certificate');
  const scheme = { kind: 'ecdsa', hash: 'SHA-384', encoding: 'p1363' } as const;
  const ok = await backend.verify(publicKeyOf(certificate), scheme, sigStructure(cose), cose.signature);
  if (!ok) throw new VeriteeError(ErrorCode.SIG_INVALID, 'EIF PCR0 signature does not verify', { path });
  const info = expectMap(
    decodeCbor(cose.payload, { path: `${path}/payload`, maxDepth: 3, maxItems: 1024 }),
    `${path}/payload`,
  );
  for (const key of info.entries.keys()) {
    if (key !== 'register_index' && key !== 'register_value') {
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field ${String(key)}`, {
        path: `${path}/payload`,
      });
    }
  }
  if (info.get('register_index') !== 0) {
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'EIF signature does not cover PCR0', {
      path: `${path}/payload/register_index`,
    });
  }
  const value = byteField(
    required(info.get('register_value'), `${path}/payload/register_value`),
    `${path}/payload/register_value`,
  );
  if (!equalBytes(value, fromHex(pcr0Hex, 'pcr0'))) {
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'EIF signature was made over a different PCR0', {
      path: `${path}/payload/register_value`,
      details: `signed ${toHex(value)}`,
    });
  }
}
