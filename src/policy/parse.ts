/**
 * Turns policy JSON into a `Policy`, checking every key and value. Unknown keys are errors: a typo must
 * never silently weaken what a relying party accepts.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import type { Platform } from '../result.js';
import type { ByteMatch, Policy } from './types.js';

const PLATFORMS: readonly Platform[] = ['nitro', 'sgx', 'tdx', 'sev-snp', 'sim'];
const COMMON_KEYS = new Set([
  '$schema',
  'platforms',
  'measurements',
  'allowDebug',
  'nonce',
  'maxAgeSeconds',
  'userData',
  'publicKey',
  'reportData',
]);
const HEX = /^[0-9a-f]*$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** Parses one platform section; `undefined` means the section name is unknown. */
export type SectionParser = (name: string, value: unknown) => unknown;

function invalid(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.POLICY_INVALID, message, { path });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Lowercase hex of even length; `bytes` pins the decoded size when given. */
export function policyHex(value: unknown, path: string, bytes?: number): string {
  if (typeof value !== 'string') throw invalid('must be a hex string', path);
  const hex = value.toLowerCase().replace(/^0x/, '');
  if (!HEX.test(hex) || hex.length % 2 !== 0) throw invalid('must be an even-length hex string', path);
  if (bytes !== undefined && hex.length !== bytes * 2)
    throw invalid(`must be ${bytes} bytes (${bytes * 2} hex digits)`, path);
  return hex;
}

function parseByteMatch(value: unknown, path: string): ByteMatch {
  if (typeof value === 'string') return { equals: policyHex(value, path) };
  if (!isObject(value)) throw invalid('must be a hex string or {equals|sha256|sha384|sha512: hex}', path);
  const keys = Object.keys(value);
  if (keys.length !== 1) throw invalid('must have exactly one of equals, sha256, sha384, sha512', path);
  const [key] = keys as [string];
  if (key === 'equals') return { equals: policyHex(value.equals, `${path}/equals`) };
  const length = DIGEST_LENGTHS[key];
  if (length === undefined) throw invalid(`unknown match kind "${key}"`, path);
  const hex = policyHex(value[key], `${path}/${key}`, length);
  return key === 'sha256' ? { sha256: hex } : key === 'sha384' ? { sha384: hex } : { sha512: hex };
}

function parseMeasurements(value: unknown, path: string): Record<string, readonly string[]> {
  if (!isObject(value)) throw invalid('must be an object of register → hex or [hex, …]', path);
  const out: Record<string, readonly string[]> = {};
  for (const [register, allowed] of Object.entries(value)) {
    if (!/^[a-z][a-z0-9_]*$/.test(register))
      throw invalid(`register name "${register}" must be lowercase`, path);
    const list = Array.isArray(allowed) ? allowed : [allowed];
    if (list.length === 0) throw invalid('allow-list is empty: nothing could match', `${path}/${register}`);
    out[register] = list.map((item, i) => policyHex(item, `${path}/${register}[${i}]`));
  }
  return out;
}

function parsePlatforms(value: unknown, path: string): Platform[] {
  if (!Array.isArray(value) || value.length === 0)
    throw invalid('must be a non-empty list of platforms', path);
  return value.map((item, i) => {
    if (!PLATFORMS.includes(item as Platform)) {
      throw invalid(
        `unknown platform ${JSON.stringify(item)} (known: ${PLATFORMS.join(', ')})`,
        `${path}[${i}]`,
      );
    }
    return item as Platform;
  });
}

/** Validates a policy object (as parsed from JSON). `sectionParsers` validate platform sections. */
export function parsePolicy(
  json: unknown,
  sectionParsers: ReadonlyMap<string, SectionParser> = new Map(),
): Policy {
  if (!isObject(json)) throw invalid('policy must be a JSON object', 'policy');
  const sections: Record<string, unknown> = {};
  for (const key of Object.keys(json)) {
    if (COMMON_KEYS.has(key)) continue;
    const parser = sectionParsers.get(key);
    if (parser === undefined) throw invalid(`unknown policy key "${key}"`, `policy/${key}`);
    sections[key] = parser(key, json[key]);
  }
  const maxAge = json.maxAgeSeconds;
  if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0)) {
    throw invalid('must be a positive number of seconds', 'policy/maxAgeSeconds');
  }
  if (json.allowDebug !== undefined && typeof json.allowDebug !== 'boolean') {
    throw invalid('must be true or false', 'policy/allowDebug');
  }
  return {
    platforms: json.platforms === undefined ? undefined : parsePlatforms(json.platforms, 'policy/platforms'),
    measurements:
      json.measurements === undefined
        ? undefined
        : parseMeasurements(json.measurements, 'policy/measurements'),
    allowDebug: json.allowDebug === true,
    nonce: json.nonce === undefined ? undefined : policyHex(json.nonce, 'policy/nonce'),
    maxAgeSeconds: maxAge as number | undefined,
    userData: json.userData === undefined ? undefined : parseByteMatch(json.userData, 'policy/userData'),
    publicKey: json.publicKey === undefined ? undefined : parseByteMatch(json.publicKey, 'policy/publicKey'),
    reportData:
      json.reportData === undefined ? undefined : parseByteMatch(json.reportData, 'policy/reportData'),
    sections,
  };
}

/** Parses policy text (JSON), reporting syntax errors as POLICY_INVALID. */
export function parsePolicyText(text: string, sectionParsers?: ReadonlyMap<string, SectionParser>): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VeriteeError(ErrorCode.POLICY_INVALID, 'policy is not valid JSON', {
      path: 'policy',
      details: error instanceof Error ? error.message : undefined,
    });
  }
  return parsePolicy(json, sectionParsers);
}

/** The policy used when none is given: verification alone decides, debug is contraindicated. */
export const DEFAULT_POLICY: Policy = Object.freeze({ allowDebug: false, sections: {} });
