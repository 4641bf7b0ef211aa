/**
 * Wire encoding of the KMS protocol: JSON objects with byte strings in unpadded base64url, and one
 * canonical form (sorted keys, no whitespace, integers only) for everything that is hashed or signed.
 *
 * The readers here are total: any JSON value yields the typed field or a `VeriteeError` with code
 * `ARGUMENT_INVALID` naming the field; unknown fields are refused (a typo must never weaken a request).
 */
import { fromBase64, toBase64Url, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Largest JSON nesting the canonical encoder walks (policies are shallow). */
const MAX_DEPTH = 32;

function bad(path: string, message: string): VeriteeError {
  return new VeriteeError(ErrorCode.ARGUMENT_INVALID, message, { path });
}

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, only safe integers as numbers
 * (a float has more than one spelling). The same bytes on every node for the same value.
 */
export function canonicalJson(value: unknown, path = '', depth = 0): string {
  if (depth > MAX_DEPTH) throw bad(path, 'value nested too deeply');
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw bad(path, 'numbers must be safe integers');
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => canonicalJson(item, `${path}/${index}`, depth + 1)).join(',')}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item, `${path}/${key}`, depth + 1)}`)
      .join(',')}}`;
  }
  throw bad(path, `cannot encode a ${typeof value}`);
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8Encode(canonicalJson(value));
}

export const b64u = toBase64Url;

/** Strict unpadded base64url → bytes, with an optional exact length. */
export function fromB64u(value: unknown, path: string, length?: number): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) {
    throw bad(path, 'must be an unpadded base64url string');
  }
  const bytes = fromBase64(value.replace(/-/g, '+').replace(/_/g, '/'), path);
  if (b64u(bytes) !== value) throw bad(path, 'base64url is not canonical');
  if (length !== undefined && bytes.length !== length) throw bad(path, `must be ${length} bytes`);
  return bytes;
}

/** A JSON object with exactly the allowed keys (the required ones present). */
export function readObject(
  value: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(path, 'must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key)) throw bad(`${path}/${key}`, 'unknown field');
  }
  for (const key of required) {
    if (record[key] === undefined) throw bad(`${path}/${key}`, 'missing field');
  }
  return record;
}

export function readString(value: unknown, path: string, pattern?: RegExp, maxLength = 4096): string {
  if (typeof value !== 'string' || value.length > maxLength) {
    throw bad(path, `must be a string of at most ${maxLength} characters`);
  }
  if (pattern !== undefined && !pattern.test(value)) throw bad(path, 'has the wrong format');
  return value;
}

export function readInt(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw bad(path, `must be an integer in [${min}, ${max}]`);
  }
  return value;
}

export function readArray(value: unknown, path: string, min: number, max: number): readonly unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw bad(path, `must be an array of ${min} to ${max} items`);
  }
  return value;
}

/** Parses JSON text without letting a JSON.parse exception escape. */
export function parseJsonText(text: string, path = 'body'): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad(path, 'is not valid JSON');
  }
}

/** App ids: lowercase letters, digits, `.`, `_`, `-`; 1–64 characters. */
export const APP_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Node ids: 32 lowercase hex characters (the first 16 bytes of the node key's digest). */
export const NODE_ID = /^[0-9a-f]{32}$/;
