/**
 * `measurements.json`: the reference values one build yields, per platform, with the register names the
 * verifier reports in `AttestationResult.measurements`:
 *
 * ```json
 * { "version": 1,
 *   "platforms": {
 *     "nitro": { "pcr0": "…", "pcr1": "…", "pcr2": "…", "pcr8": "…" },
 *     "tdx":   { "mrtd": "…", "rtmr0": "…", "rtmr1": "…", "rtmr2": "…", "rtmr3": "…" } } }
 * ```
 *
 * Every listed register must be reported by the evidence with exactly that value; registers not listed
 * are not checked. Values are lowercase hex of 32, 48 or 64 bytes. Unknown keys are errors.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import type { AttestationResult, Check, Platform } from '../result.js';

export const MEASUREMENTS_VERSION = 1;
const PLATFORMS: readonly Platform[] = ['nitro', 'sgx', 'tdx', 'sev-snp', 'sim'];
const REGISTER = /^[a-z][a-z0-9_]{0,31}$/;
const VALUE = /^(?:[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/;

/** Platform → register → lowercase hex. */
export type PlatformMeasurements = Readonly<Partial<Record<Platform, Readonly<Record<string, string>>>>>;

export interface MeasurementsFile {
  readonly version: 1;
  readonly platforms: PlatformMeasurements;
}

function invalid(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, message, { path });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a platform → register → hex map (shared with release records). */
export function parsePlatformMeasurements(value: unknown, path: string): PlatformMeasurements {
  if (!isObject(value)) throw invalid('must be an object of platform → registers', path);
  const out: Partial<Record<Platform, Record<string, string>>> = {};
  const entries = Object.entries(value);
  if (entries.length === 0) throw invalid('lists no platform', path);
  for (const [platform, registers] of entries) {
    if (!PLATFORMS.includes(platform as Platform)) {
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown platform "${platform}"`, {
        path: `${path}/${platform}`,
      });
    }
    if (!isObject(registers) || Object.keys(registers).length === 0) {
      throw invalid('must be a non-empty object of register → hex', `${path}/${platform}`);
    }
    const parsed: Record<string, string> = {};
    for (const [register, hex] of Object.entries(registers)) {
      const at = `${path}/${platform}/${register}`;
      if (!REGISTER.test(register))
        throw invalid(`register name "${register}" is not lowercase [a-z0-9_]`, at);
      if (typeof hex !== 'string' || !VALUE.test(hex))
        throw invalid('must be lowercase hex of 32, 48 or 64 bytes', at);
      parsed[register] = hex;
    }
    out[platform as Platform] = parsed;
  }
  return out;
}

export function parseMeasurementsFile(json: unknown): MeasurementsFile {
  const path = 'measurements';
  if (!isObject(json)) throw invalid('measurements.json must be a JSON object', path);
  for (const key of Object.keys(json)) {
    if (key !== 'version' && key !== 'platforms' && key !== '$schema') {
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown key "${key}"`, {
        path: `${path}/${key}`,
      });
    }
  }
  if (json.version !== MEASUREMENTS_VERSION)
    throw invalid(`version must be ${MEASUREMENTS_VERSION}`, `${path}/version`);
  return { version: 1, platforms: parsePlatformMeasurements(json.platforms, `${path}/platforms`) };
}

/**
 * Checks the result's measurements against the expected values for its platform. Pure. A platform the
 * file does not list fails (`expect.platform`), so a file for Nitro never passes TDX evidence.
 */
export function expectedMeasurementChecks(
  result: AttestationResult,
  expected: PlatformMeasurements,
  prefix = 'expect',
): Check[] {
  const platform = result.platform;
  const registers = platform === 'unknown' ? undefined : expected[platform];
  if (registers === undefined) {
    const listed = Object.keys(expected).join(', ');
    return [
      {
        id: `${prefix}.platform`,
        ok: false,
        detail: `no expected measurements for ${platform} (listed: ${listed})`,
      },
    ];
  }
  return Object.entries(registers).map(([register, wanted]) => {
    const found = result.measurements[register];
    const ok = found === wanted;
    const detail = ok
      ? `${register} = ${wanted}`
      : found === undefined
        ? `the evidence has no ${register}`
        : `${register} is ${found}, expected ${wanted}`;
    return { id: `${prefix}.${platform}.${register}`, ok, detail };
  });
}

/**
 * Adds checks to a result; any failed check makes the verdict `contraindicated` and adds a
 * POLICY_VIOLATION error. A result that failed verification stays as it is.
 */
export function withChecks(result: AttestationResult, checks: readonly Check[]): AttestationResult {
  if (!result.verified) return result;
  const failed = checks.filter((check) => !check.ok);
  return {
    ...result,
    verdict: failed.length > 0 ? 'contraindicated' : result.verdict,
    checks: [...result.checks, ...checks],
    errors: [
      ...result.errors,
      ...failed.map((check) => ({
        code: ErrorCode.POLICY_VIOLATION,
        message: `${check.id}: ${check.detail}`,
      })),
    ],
  };
}
