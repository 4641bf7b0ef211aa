/**
 * The AWS Nitro Enclaves attestation document (the COSE_Sign1 payload), parsed with the syntactic checks
 * of AWS's "Verifying the root of trust" guide, §"Syntactical validation". This step checks types, sizes
 * and required fields only; it does not check the signature, the certificates or any value's meaning.
 */
import {
  type CborMap,
  type CborValue,
  decodeCbor,
  expectArray,
  expectBytes,
  expectMap,
  expectText,
  expectUint,
} from '../../cbor.js';
import { ErrorCode, VeriteeError } from '../../errors.js';

export interface NitroDocument {
  readonly moduleId: string;
  readonly digest: 'SHA384';
  /** Milliseconds since the Unix epoch, as the NSM reports it. */
  readonly timestamp: number;
  /** PCR index → value (32, 48 or 64 bytes). */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** The signing (leaf) certificate, DER. */
  readonly certificate: Uint8Array;
  /** CA bundle, DER, root first as the NSM emits it. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | undefined;
  readonly userData: Uint8Array | undefined;
  readonly nonce: Uint8Array | undefined;
}

// Limits from AWS's attestation document specification.
export const NITRO_LIMITS = {
  maxPcrs: 32,
  /** PCR indices are 0..31. */
  maxPcrIndex: 31,
  pcrLengths: [32, 48, 64] as readonly number[],
  certMin: 1,
  certMax: 1024,
  publicKeyMin: 1,
  publicKeyMax: 1024,
  userDataMax: 512,
  nonceMax: 512,
} as const;

const KNOWN_FIELDS = new Set([
  'module_id',
  'digest',
  'timestamp',
  'pcrs',
  'certificate',
  'cabundle',
  'public_key',
  'user_data',
  'nonce',
]);

function required(map: CborMap, key: string, path: string): CborValue {
  const value = map.get(key);
  if (value === undefined || value === null) {
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, `attestation document has no ${key}`, {
      path: `${path}/${key}`,
    });
  }
  return value;
}

function sizedBytes(value: CborValue | undefined, min: number, max: number, path: string): Uint8Array {
  const bytes = expectBytes(value, path);
  if (bytes.length < min || bytes.length > max) {
    throw new VeriteeError(
      ErrorCode.PARSE_INVALID_VALUE,
      `${path} must be ${min}..${max} bytes, found ${bytes.length}`,
      { path },
    );
  }
  return bytes.slice();
}

/** Optional fields may be absent or CBOR null (the NSM writes null for fields not requested). */
function optionalBytes(
  map: CborMap,
  key: string,
  min: number,
  max: number,
  path: string,
): Uint8Array | undefined {
  const value = map.get(key);
  if (value === undefined || value === null) return undefined;
  return sizedBytes(value, min, max, `${path}/${key}`);
}

function parsePcrs(value: CborValue, path: string): Map<number, Uint8Array> {
  const map = expectMap(value, path);
  if (map.size < 1 || map.size > NITRO_LIMITS.maxPcrs) {
    throw new VeriteeError(
      ErrorCode.PARSE_INVALID_VALUE,
      `pcrs must hold 1..${NITRO_LIMITS.maxPcrs} entries, found ${map.size}`,
      { path },
    );
  }
  const out = new Map<number, Uint8Array>();
  for (const [index, pcr] of map.entries) {
    const pcrPath = `${path}/${String(index)}`;
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index > NITRO_LIMITS.maxPcrIndex
    ) {
      throw new VeriteeError(
        ErrorCode.PARSE_INVALID_VALUE,
        `PCR index ${JSON.stringify(index)} is outside 0..31`,
        { path: pcrPath },
      );
    }
    const bytes = expectBytes(pcr, pcrPath);
    if (!NITRO_LIMITS.pcrLengths.includes(bytes.length)) {
      throw new VeriteeError(
        ErrorCode.PARSE_INVALID_VALUE,
        `PCR${index} must be 32, 48 or 64 bytes, found ${bytes.length}`,
        { path: pcrPath },
      );
    }
    out.set(index, bytes.slice());
  }
  return out;
}

/** Parses the attestation document payload bytes. */
export function parseNitroDocument(payload: Uint8Array, path = 'payload'): NitroDocument {
  const map = expectMap(decodeCbor(payload, { path, maxDepth: 4 }), path);
  for (const key of map.entries.keys()) {
    if (typeof key !== 'string' || !KNOWN_FIELDS.has(key)) {
      throw new VeriteeError(
        ErrorCode.PARSE_UNKNOWN_FIELD,
        `unknown attestation document field ${JSON.stringify(key)}`,
        { path },
      );
    }
  }
  const moduleId = expectText(required(map, 'module_id', path), `${path}/module_id`);
  if (moduleId.length === 0) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'module_id is empty', {
      path: `${path}/module_id`,
    });
  }
  const digest = expectText(required(map, 'digest', path), `${path}/digest`);
  if (digest !== 'SHA384') {
    throw new VeriteeError(
      ErrorCode.PARSE_INVALID_VALUE,
      `digest must be "SHA384", found ${JSON.stringify(digest)}`,
      { path: `${path}/digest` },
    );
  }
  const timestamp = expectUint(required(map, 'timestamp', path), `${path}/timestamp`);
  if (timestamp === 0) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'timestamp is zero', { path: `${path}/timestamp` });
  }
  const pcrs = parsePcrs(required(map, 'pcrs', path), `${path}/pcrs`);
  const certificate = sizedBytes(
    required(map, 'certificate', path),
    NITRO_LIMITS.certMin,
    NITRO_LIMITS.certMax,
    `${path}/certificate`,
  );
  const bundle = expectArray(required(map, 'cabundle', path), `${path}/cabundle`);
  if (bundle.length < 1) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'cabundle is empty', { path: `${path}/cabundle` });
  }
  const cabundle = bundle.map((cert, i) =>
    sizedBytes(cert, NITRO_LIMITS.certMin, NITRO_LIMITS.certMax, `${path}/cabundle[${i}]`),
  );
  return {
    moduleId,
    digest,
    timestamp,
    pcrs,
    certificate,
    cabundle,
    publicKey: optionalBytes(map, 'public_key', NITRO_LIMITS.publicKeyMin, NITRO_LIMITS.publicKeyMax, path),
    userData: optionalBytes(map, 'user_data', 0, NITRO_LIMITS.userDataMax, path),
    nonce: optionalBytes(map, 'nonce', 0, NITRO_LIMITS.nonceMax, path),
  };
}
