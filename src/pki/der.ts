/**
 * A strict DER reader (ITU-T X.690 §10): definite lengths only, minimal length encoding, no trailing bytes
 * inside a constructed value. Enough of ASN.1 for certificates, CRLs and vendor extensions. Every element
 * keeps its raw bytes, so signed structures are verified over exactly what was received.
 */
import { ErrorCode, VeriteeError } from '../errors.js';

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export interface DerElement {
  readonly tag: number;
  /** The whole element: tag, length and contents. */
  readonly raw: Uint8Array;
  /** The contents octets. */
  readonly value: Uint8Array;
  /** Offset of the element inside the outermost input, for error messages. */
  readonly offset: number;
}

const MAX_DEPTH = 32;

function derError(
  message: string,
  path: string,
  offset: number,
  code: ErrorCode = ErrorCode.PARSE_MALFORMED,
): VeriteeError {
  return new VeriteeError(code, message, { path, offset });
}

/** Reads one element at `position` of `bytes`; `base` is the absolute offset of `bytes[0]`. */
export function readElement(bytes: Uint8Array, position: number, path: string, base = 0): DerElement {
  const start = position;
  if (position >= bytes.length)
    throw derError('DER element missing', path, base + position, ErrorCode.PARSE_TRUNCATED);
  const tag = bytes[position++]!;
  if ((tag & 0x1f) === 0x1f) throw derError('multi-byte DER tags are not supported', path, base + start);
  if (position >= bytes.length)
    throw derError('DER length missing', path, base + position, ErrorCode.PARSE_TRUNCATED);
  const first = bytes[position++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw derError('indefinite DER length', path, base + start);
    if (count > 4) throw derError('DER length too large', path, base + start, ErrorCode.PARSE_LIMIT_EXCEEDED);
    if (position + count > bytes.length) {
      throw derError('DER length truncated', path, base + position, ErrorCode.PARSE_TRUNCATED);
    }
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[position++]!;
    // X.690 §10.1: the definite form uses the minimum number of octets.
    if (length < 0x80 || bytes[start + 2] === 0) throw derError('non-minimal DER length', path, base + start);
  }
  if (position + length > bytes.length) {
    throw derError(
      `DER element needs ${length} bytes, ${bytes.length - position} left`,
      path,
      base + start,
      ErrorCode.PARSE_TRUNCATED,
    );
  }
  return {
    tag,
    raw: bytes.subarray(start, position + length),
    value: bytes.subarray(position, position + length),
    offset: base + start,
  };
}

/** Parses `bytes` as exactly one DER element (no trailing bytes). */
export function parseDer(bytes: Uint8Array, path: string): DerElement {
  const element = readElement(bytes, 0, path);
  if (element.raw.length !== bytes.length) {
    throw derError(
      'trailing bytes after DER element',
      path,
      element.raw.length,
      ErrorCode.PARSE_TRAILING_BYTES,
    );
  }
  return element;
}

/** Splits a constructed element into its children. */
export function children(element: DerElement, path: string, depth = 0): DerElement[] {
  if (depth > MAX_DEPTH)
    throw derError('DER nesting too deep', path, element.offset, ErrorCode.PARSE_LIMIT_EXCEEDED);
  if ((element.tag & 0x20) === 0) throw derError('expected a constructed DER element', path, element.offset);
  const out: DerElement[] = [];
  const contentStart = element.offset + (element.raw.length - element.value.length);
  let position = 0;
  while (position < element.value.length) {
    const child = readElement(element.value, position, `${path}[${out.length}]`, contentStart);
    out.push(child);
    position += child.raw.length;
  }
  return out;
}

export function expectTag(element: DerElement | undefined, tag: number, path: string): DerElement {
  if (element === undefined) throw derError('missing DER element', path, 0, ErrorCode.PARSE_MISSING_FIELD);
  if (element.tag !== tag) {
    throw derError(
      `expected DER tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`,
      path,
      element.offset,
      ErrorCode.PARSE_UNEXPECTED_TYPE,
    );
  }
  return element;
}

/** Children of a SEQUENCE, checking the tag. */
export function sequence(element: DerElement | undefined, path: string, depth = 0): DerElement[] {
  return children(expectTag(element, Tag.SEQUENCE, path), path, depth);
}

export function readOid(element: DerElement | undefined, path: string): string {
  const value = expectTag(element, Tag.OID, path).value;
  if (value.length === 0 || (value[value.length - 1]! & 0x80) !== 0) {
    throw derError('malformed OBJECT IDENTIFIER', path, element!.offset);
  }
  const parts: number[] = [];
  let current = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i]!;
    if (current === 0 && byte === 0x80) throw derError('non-minimal OID arc', path, element!.offset);
    current = current * 128 + (byte & 0x7f);
    if (current > Number.MAX_SAFE_INTEGER / 128) throw derError('OID arc too large', path, element!.offset);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) {
        const first = current < 40 ? 0 : current < 80 ? 1 : 2;
        parts.push(first, current - first * 40);
      } else {
        parts.push(current);
      }
      current = 0;
    }
  }
  return parts.join('.');
}

/** INTEGER contents as unsigned big-endian bytes (leading sign byte removed). Rejects negative values. */
export function readUnsignedInteger(element: DerElement | undefined, path: string): Uint8Array {
  const value = expectTag(element, Tag.INTEGER, path).value;
  if (value.length === 0) throw derError('empty INTEGER', path, element!.offset);
  if (value.length > 1 && value[0] === 0 && (value[1]! & 0x80) === 0) {
    throw derError('non-minimal INTEGER', path, element!.offset);
  }
  if (value.length > 1 && value[0] === 0xff && (value[1]! & 0x80) !== 0) {
    throw derError('non-minimal INTEGER', path, element!.offset);
  }
  if ((value[0]! & 0x80) !== 0)
    throw derError('negative INTEGER', path, element!.offset, ErrorCode.PARSE_INVALID_VALUE);
  return value[0] === 0 && value.length > 1 ? value.subarray(1) : value;
}

/** A small non-negative INTEGER as a number. */
export function readSmallInteger(element: DerElement | undefined, path: string): number {
  const bytes = readUnsignedInteger(element, path);
  if (bytes.length > 6)
    throw derError('INTEGER too large', path, element!.offset, ErrorCode.PARSE_LIMIT_EXCEEDED);
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;
  return value;
}

export function readBoolean(element: DerElement | undefined, path: string): boolean {
  const value = expectTag(element, Tag.BOOLEAN, path).value;
  // X.690 §11.1: DER encodes TRUE as 0xFF.
  if (value.length !== 1 || (value[0] !== 0 && value[0] !== 0xff)) {
    throw derError('malformed BOOLEAN', path, element!.offset);
  }
  return value[0] === 0xff;
}

/** BIT STRING contents without the unused-bits octet; only whole-byte strings unless `allowUnused`. */
export function readBitString(
  element: DerElement | undefined,
  path: string,
  allowUnused = false,
): Uint8Array {
  const value = expectTag(element, Tag.BIT_STRING, path).value;
  if (value.length === 0) throw derError('empty BIT STRING', path, element!.offset);
  const unused = value[0]!;
  if (unused > 7 || (unused !== 0 && !allowUnused) || (unused !== 0 && value.length === 1)) {
    throw derError('malformed BIT STRING', path, element!.offset);
  }
  return value.subarray(1);
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function readString(element: DerElement | undefined, path: string): string {
  if (element === undefined) throw derError('missing string', path, 0, ErrorCode.PARSE_MISSING_FIELD);
  switch (element.tag) {
    case Tag.UTF8_STRING:
    case Tag.PRINTABLE_STRING:
    case Tag.IA5_STRING:
    case Tag.T61_STRING:
      try {
        return textDecoder.decode(element.value);
      } catch {
        throw derError('invalid string encoding', path, element.offset, ErrorCode.PARSE_ENCODING);
      }
    case Tag.BMP_STRING: {
      if (element.value.length % 2 !== 0) throw derError('malformed BMPString', path, element.offset);
      let out = '';
      for (let i = 0; i < element.value.length; i += 2) {
        out += String.fromCharCode((element.value[i]! << 8) | element.value[i + 1]!);
      }
      return out;
    }
    default:
      throw derError(
        `expected a string, found tag 0x${element.tag.toString(16)}`,
        path,
        element.offset,
        ErrorCode.PARSE_UNEXPECTED_TYPE,
      );
  }
}

/** UTCTime (RFC 5280 §4.1.2.5.1) or GeneralizedTime (§4.1.2.5.2), both in the strict `Z` form. */
export function readTime(element: DerElement | undefined, path: string): Date {
  if (element === undefined) throw derError('missing time', path, 0, ErrorCode.PARSE_MISSING_FIELD);
  const text = String.fromCharCode(...element.value);
  let match: RegExpExecArray | null;
  let year: number;
  if (element.tag === Tag.UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (match === null) throw derError('malformed UTCTime', path, element.offset);
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (element.tag === Tag.GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (match === null) throw derError('malformed GeneralizedTime', path, element.offset);
    year = Number(match[1]);
  } else {
    throw derError('expected a time', path, element.offset, ErrorCode.PARSE_UNEXPECTED_TYPE);
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw derError('invalid calendar time', path, element.offset, ErrorCode.PARSE_INVALID_VALUE);
  }
  return date;
}

/** Context-specific tag number of an element, or -1 if it is not context-specific. */
export function contextTag(element: DerElement | undefined): number {
  if (element === undefined || (element.tag & 0xc0) !== 0x80) return -1;
  return element.tag & 0x1f;
}
