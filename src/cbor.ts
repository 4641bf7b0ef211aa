/**
 * A strict CBOR decoder (RFC 8949) for attestation formats. Design rationale: evidence is hostile input,
 * so the decoder accepts one encoding per value and refuses everything else with a typed error that names
 * the field path and byte offset:
 * - definite lengths only (no indefinite-length strings, arrays or maps, §3.2.2-3);
 * - preferred serialisation: integers and lengths in their shortest form (§4.2.1);
 * - map keys must be integers or text strings, and unique (§5.6);
 * - simple values limited to false, true, null; no floats, no `undefined`;
 * - nesting depth and item counts bounded before any allocation;
 * - trailing bytes after the top-level item are an error.
 * Byte strings are returned as views into the input: callers that keep them must copy.
 */
import { ErrorCode, VeriteeError } from './errors.js';

export type CborKey = number | string;

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | CborMap
  | CborTagged;

/** A decoded map. Keys keep their CBOR types (integer or text). */
export class CborMap {
  constructor(readonly entries: ReadonlyMap<CborKey, CborValue>) {}
  get size(): number {
    return this.entries.size;
  }
  get(key: CborKey): CborValue | undefined {
    return this.entries.get(key);
  }
  has(key: CborKey): boolean {
    return this.entries.has(key);
  }
}

export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export interface CborDecodeOptions {
  /** Maximum nesting of arrays, maps and tags. Security-relevant for untrusted input. Default 16. */
  readonly maxDepth?: number;
  /** Maximum items in one array or map. Default 4096. */
  readonly maxItems?: number;
  /** Prefix for error paths. */
  readonly path?: string;
}

class Decoder {
  private position = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
    private readonly maxItems: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.position;
  }

  private fail(code: ErrorCode, message: string, path: string, offset = this.position): never {
    throw new VeriteeError(code, message, { path, offset });
  }

  private need(count: number, path: string): void {
    if (count > this.bytes.length - this.position) {
      this.fail(ErrorCode.PARSE_TRUNCATED, 'CBOR input ends early', path);
    }
  }

  /** Reads the argument of a head; returns a number, or a bigint above 2^53. */
  private argument(info: number, path: string, start: number): number | bigint {
    if (info < 24) return info;
    let value: number | bigint;
    switch (info) {
      case 24:
        this.need(1, path);
        value = this.bytes[this.position]!;
        this.position += 1;
        if (value < 24)
          this.fail(ErrorCode.PARSE_NON_CANONICAL, 'CBOR integer not in shortest form', path, start);
        return value;
      case 25:
        this.need(2, path);
        value = this.view.getUint16(this.position);
        this.position += 2;
        if (value <= 0xff)
          this.fail(ErrorCode.PARSE_NON_CANONICAL, 'CBOR integer not in shortest form', path, start);
        return value;
      case 26:
        this.need(4, path);
        value = this.view.getUint32(this.position);
        this.position += 4;
        if (value <= 0xffff)
          this.fail(ErrorCode.PARSE_NON_CANONICAL, 'CBOR integer not in shortest form', path, start);
        return value;
      case 27: {
        this.need(8, path);
        const big = this.view.getBigUint64(this.position);
        this.position += 8;
        if (big <= 0xffffffffn)
          this.fail(ErrorCode.PARSE_NON_CANONICAL, 'CBOR integer not in shortest form', path, start);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      case 31:
        return this.fail(
          ErrorCode.PARSE_MALFORMED,
          'indefinite-length CBOR items are not accepted',
          path,
          start,
        );
      default:
        return this.fail(ErrorCode.PARSE_MALFORMED, 'reserved CBOR additional information', path, start);
    }
  }

  private length(info: number, path: string, start: number): number {
    const value = this.argument(info, path, start);
    if (typeof value === 'bigint')
      this.fail(ErrorCode.PARSE_LIMIT_EXCEEDED, 'CBOR length too large', path, start);
    return value;
  }

  decode(path: string, depth: number): CborValue {
    if (depth > this.maxDepth) this.fail(ErrorCode.PARSE_LIMIT_EXCEEDED, 'CBOR nesting too deep', path);
    const start = this.position;
    this.need(1, path);
    const head = this.bytes[this.position++]!;
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info, path, start);
      case 1: {
        const value = this.argument(info, path, start);
        return typeof value === 'bigint' || value > Number.MAX_SAFE_INTEGER - 1
          ? -1n - BigInt(value)
          : -1 - value;
      }
      case 2: {
        const length = this.length(info, path, start);
        this.need(length, path);
        const out = this.bytes.subarray(this.position, this.position + length);
        this.position += length;
        return out;
      }
      case 3: {
        const length = this.length(info, path, start);
        this.need(length, path);
        const raw = this.bytes.subarray(this.position, this.position + length);
        this.position += length;
        try {
          return utf8.decode(raw);
        } catch {
          return this.fail(ErrorCode.PARSE_ENCODING, 'CBOR text string is not valid UTF-8', path, start);
        }
      }
      case 4:
        return this.array(info, path, start, depth);
      case 5:
        return this.map(info, path, start, depth);
      case 6: {
        const tag = this.argument(info, path, start);
        if (typeof tag === 'bigint')
          this.fail(ErrorCode.PARSE_LIMIT_EXCEEDED, 'CBOR tag too large', path, start);
        return new CborTagged(tag, this.decode(path, depth + 1));
      }
      default:
        return this.simple(info, path, start);
    }
  }

  private array(info: number, path: string, start: number, depth: number): CborValue[] {
    const count = this.length(info, path, start);
    if (count > this.maxItems)
      this.fail(ErrorCode.PARSE_LIMIT_EXCEEDED, `CBOR array has ${count} items`, path, start);
    // Each item takes at least one byte: refuse counts the input cannot hold before looping.
    this.need(count, path);
    const out: CborValue[] = [];
    for (let i = 0; i < count; i++) out.push(this.decode(`${path}[${i}]`, depth + 1));
    return out;
  }

  private map(info: number, path: string, start: number, depth: number): CborMap {
    const count = this.length(info, path, start);
    if (count > this.maxItems)
      this.fail(ErrorCode.PARSE_LIMIT_EXCEEDED, `CBOR map has ${count} entries`, path, start);
    this.need(count * 2, path);
    const entries = new Map<CborKey, CborValue>();
    for (let i = 0; i < count; i++) {
      const keyOffset = this.position;
      const key = this.decode(`${path}/#key${i}`, depth + 1);
      if (typeof key !== 'number' && typeof key !== 'string') {
        this.fail(ErrorCode.PARSE_UNEXPECTED_TYPE, 'CBOR map keys must be integers or text', path, keyOffset);
      }
      if (entries.has(key)) {
        this.fail(
          ErrorCode.PARSE_DUPLICATE_KEY,
          `duplicate CBOR map key ${JSON.stringify(key)}`,
          path,
          keyOffset,
        );
      }
      entries.set(key, this.decode(`${path}/${String(key)}`, depth + 1));
    }
    return new CborMap(entries);
  }

  private simple(info: number, path: string, start: number): boolean | null {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      default:
        return this.fail(
          ErrorCode.PARSE_UNEXPECTED_TYPE,
          'unsupported CBOR simple value or float',
          path,
          start,
        );
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes exactly one CBOR item from `bytes`; trailing bytes are an error. */
export function decodeCbor(bytes: Uint8Array, options: CborDecodeOptions = {}): CborValue {
  const path = options.path ?? 'cbor';
  const decoder = new Decoder(bytes, options.maxDepth ?? 16, options.maxItems ?? 4096);
  const value = decoder.decode(path, 0);
  if (decoder.offset !== bytes.length) {
    throw new VeriteeError(
      ErrorCode.PARSE_TRAILING_BYTES,
      `${bytes.length - decoder.offset} bytes after the CBOR item`,
      {
        path,
        offset: decoder.offset,
      },
    );
  }
  return value;
}

/** Encodes a CBOR head (major type + argument < 2^53) in preferred form; used to build COSE Sig_structures. */
export function encodeHead(major: number, argument: number): Uint8Array {
  const type = major << 5;
  if (argument < 24) return Uint8Array.of(type | argument);
  if (argument <= 0xff) return Uint8Array.of(type | 24, argument);
  if (argument <= 0xffff) return Uint8Array.of(type | 25, argument >> 8, argument & 0xff);
  if (argument <= 0xffffffff) {
    return Uint8Array.of(
      type | 26,
      argument >>> 24,
      (argument >> 16) & 0xff,
      (argument >> 8) & 0xff,
      argument & 0xff,
    );
  }
  if (!Number.isSafeInteger(argument)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'CBOR argument too large to encode');
  }
  const out = new Uint8Array(9);
  out[0] = type | 27;
  new DataView(out.buffer).setBigUint64(1, BigInt(argument));
  return out;
}

// Type guards that raise a typed error naming the field.

export function expectMap(value: CborValue | undefined, path: string): CborMap {
  if (value instanceof CborMap) return value;
  throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, `${path} must be a CBOR map`, { path });
}

export function expectArray(value: CborValue | undefined, path: string): readonly CborValue[] {
  if (Array.isArray(value)) return value;
  throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, `${path} must be a CBOR array`, { path });
}

export function expectBytes(value: CborValue | undefined, path: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, `${path} must be a CBOR byte string`, { path });
}

export function expectText(value: CborValue | undefined, path: string): string {
  if (typeof value === 'string') return value;
  throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, `${path} must be a CBOR text string`, { path });
}

export function expectUint(value: CborValue | undefined, path: string): number {
  if (typeof value === 'number' && value >= 0) return value;
  throw new VeriteeError(
    ErrorCode.PARSE_UNEXPECTED_TYPE,
    `${path} must be an unsigned CBOR integer below 2^53`,
    {
      path,
    },
  );
}
