/**
 * Small helpers for Intel's signed JSON collateral.
 *
 * Intel signs the exact text of the inner object (`tcbInfo`, `enclaveIdentity`) as it appears in the PCS
 * response, so the verifier must find that text byte-for-byte instead of re-serialising a parsed value.
 * `splitSignedJson` scans the top-level object of a PCS response and returns the raw text of each member;
 * it refuses duplicate keys and bounds nesting depth. Values are then parsed with JSON.parse.
 *
 * The field readers check types, ranges and lengths and name the field path in every error.
 */
import { fromHex } from '../../bytes.js';
import { ErrorCode as Codes, type ErrorCode, VeriteeError } from '../../errors.js';

const MAX_DEPTH = 64;

function syntax(message: string, path: string, offset: number): VeriteeError {
  return new VeriteeError(Codes.PARSE_MALFORMED, message, { path, offset });
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Returns the index just past the JSON string starting at `i` (which must be a quote). */
function skipString(text: string, i: number, path: string): number {
  if (text[i] !== '"') throw syntax('expected a string', path, i);
  i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  throw syntax('unterminated string', path, i);
}

/** Returns the index just past the JSON value starting at `i` (structure only; JSON.parse validates). */
function skipValue(text: string, i: number, path: string): number {
  let depth = 0;
  let j = i;
  do {
    j = skipWhitespace(text, j);
    const c = text[j];
    if (c === '"') j = skipString(text, j, path);
    else if (c === '{' || c === '[') {
      depth++;
      if (depth > MAX_DEPTH)
        throw new VeriteeError(Codes.PARSE_LIMIT_EXCEEDED, 'JSON nested too deeply', { path });
      j++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth < 0) throw syntax('unbalanced brackets', path, j);
      j++;
    } else if (c === undefined) {
      throw syntax('unexpected end of JSON', path, j);
    } else {
      j++;
    }
  } while (depth > 0);
  // A scalar at depth 0 ends at the next delimiter.
  if (text[i] !== '{' && text[i] !== '[' && text[i] !== '"') {
    while (j < text.length && !/[\s,}\]]/.test(text[j]!)) j++;
  }
  return j;
}

/**
 * Splits a top-level JSON object into its members' raw value texts. Refuses duplicate keys and anything
 * after the closing brace other than whitespace.
 */
export function topLevelMembers(text: string, path: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = skipWhitespace(text, 0);
  if (text[i] !== '{') throw syntax('expected a JSON object', path, i);
  i = skipWhitespace(text, i + 1);
  if (text[i] === '}') i++;
  else {
    for (;;) {
      const keyEnd = skipString(text, i, path);
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      if (out.has(key)) {
        throw new VeriteeError(Codes.PARSE_DUPLICATE_KEY, `duplicate key "${key}"`, { path, offset: i });
      }
      i = skipWhitespace(text, keyEnd);
      if (text[i] !== ':') throw syntax('expected ":"', path, i);
      const valueStart = skipWhitespace(text, i + 1);
      const valueEnd = skipValue(text, valueStart, `${path}/${key}`);
      out.set(key, text.slice(valueStart, valueEnd));
      i = skipWhitespace(text, valueEnd);
      if (text[i] === ',') {
        i = skipWhitespace(text, i + 1);
        continue;
      }
      if (text[i] === '}') {
        i++;
        break;
      }
      throw syntax('expected "," or "}"', path, i);
    }
  }
  if (skipWhitespace(text, i) !== text.length) throw syntax('unexpected text after the JSON object', path, i);
  return out;
}

/** JSON.parse with errors mapped to PARSE_MALFORMED at `path`. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VeriteeError(Codes.PARSE_MALFORMED, 'invalid JSON', {
      path,
      details: error instanceof Error ? error.message.slice(0, 160) : undefined,
    });
  }
}

export type JsonObject = Readonly<Record<string, unknown>>;

/** Field readers over a parsed JSON object; every error is `code` at `path/field`. */
export class Fields {
  constructor(
    readonly value: JsonObject,
    readonly path: string,
    private readonly code: ErrorCode = Codes.COLLATERAL_INVALID,
  ) {}

  static of(value: unknown, path: string, code: ErrorCode = Codes.COLLATERAL_INVALID): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new VeriteeError(code, 'must be a JSON object', { path });
    }
    return new Fields(value as JsonObject, path, code);
  }

  error(field: string, message: string): VeriteeError {
    return new VeriteeError(this.code, message, { path: `${this.path}/${field}` });
  }

  has(field: string): boolean {
    return Object.hasOwn(this.value, field) && this.value[field] !== undefined;
  }

  raw(field: string): unknown {
    if (!Object.hasOwn(this.value, field)) throw this.error(field, 'missing field');
    return this.value[field];
  }

  string(field: string): string {
    const value = this.raw(field);
    if (typeof value !== 'string') throw this.error(field, 'must be a string');
    return value;
  }

  integer(field: string, min: number, max: number): number {
    const value = this.raw(field);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw this.error(field, `must be an integer in ${min}..${max}`);
    }
    return value;
  }

  hex(field: string, bytes: number): Uint8Array {
    const text = this.string(field);
    if (text.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(text)) {
      throw this.error(field, `must be ${bytes} bytes of hex`);
    }
    return fromHex(text, `${this.path}/${field}`);
  }

  /** RFC 3339 UTC time as Intel writes it (`2025-07-07T09:06:43Z`, optional fraction). */
  date(field: string): Date {
    const text = this.string(field);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(text)) {
      throw this.error(field, `"${text.slice(0, 40)}" is not a UTC date-time`);
    }
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) throw this.error(field, `"${text}" is not a valid date`);
    return date;
  }

  array(field: string, maxLength = 1024): readonly unknown[] {
    const value = this.raw(field);
    if (!Array.isArray(value)) throw this.error(field, 'must be an array');
    if (value.length > maxLength) throw this.error(field, `has more than ${maxLength} entries`);
    return value;
  }

  object(field: string): Fields {
    return Fields.of(this.raw(field), `${this.path}/${field}`, this.code);
  }

  stringArray(field: string): string[] {
    return this.array(field).map((item, i) => {
      if (typeof item !== 'string') throw this.error(`${field}[${i}]`, 'must be a string');
      return item;
    });
  }
}
