/**
 * The one entry point most callers need: detect the evidence format, verify it at a time against the
 * vendor roots and collateral, and appraise it against a policy. Always returns an `AttestationResult`;
 * failures are reported in it (verified: false, verdict: contraindicated, errors with stable codes).
 */
import { decodeEvidenceInput, utf8Encode } from './bytes.js';
import { ErrorCode, VeriteeError, wrapErrorsAsync } from './errors.js';
import { parseReleasesPolicy, RELEASES_SECTION, type ReleasesPolicy } from './measure/releases-policy.js';
import type { TrustAnchor } from './pki/chain.js';
import { PLATFORM_MODULES } from './platforms/registry.js';
import type { PlatformModule } from './platforms/types.js';
import { buildResult } from './policy/appraise.js';
import { DEFAULT_POLICY, parsePolicy, type SectionParser } from './policy/parse.js';
import type { Policy } from './policy/types.js';
import type { AttestationResult, Platform } from './result.js';

export interface VerifyOptions {
  /** Verification time. Default: now. Tests and audits pin it. */
  readonly at?: Date | undefined;
  /** Appraisal policy. Default: verification alone decides; debug enclaves are contraindicated. */
  readonly policy?: Policy | undefined;
  /** Platform endorsements (Intel collateral, AMD VCEK and chain). */
  readonly collateral?: unknown;
  /** Replace the embedded vendor roots. */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /**
   * Simulator development roots (see `veritee/runtime` `simulatorAnchor`). Evidence that chains to one
   * verifies with platform `sim` (claims.simulatedPlatform says which format it imitates); a policy
   * must list `sim` in `platforms` to accept it.
   */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
  /** Restrict detection to these modules (a browser bundle that only needs one platform). */
  readonly platforms?: readonly PlatformModule[] | undefined;
  /** Release bundles (JSON) for the policy's `releases` section; untrusted, each is verified. */
  readonly releases?: readonly unknown[] | undefined;
  /**
   * Where to get endorsements when `collateral` is not given (e.g. a `CollateralResolver` over a store and
   * Intel PCS / AMD KDS). Its failures (`COLLATERAL_UNAVAILABLE`, …) become the result's errors.
   */
  readonly collateralSource?: CollateralSource | undefined;
}

/** Supplies the endorsements for evidence bytes at a verification time (undefined: none needed). */
export interface CollateralSource {
  resolve(bytes: Uint8Array, at: Date): Promise<unknown>;
}

/** Policy sections owned by modules that are not platforms: `releases` (measure/releases-policy.ts). */
const NON_PLATFORM_SECTIONS: ReadonlyMap<string, SectionParser> = new Map([
  [RELEASES_SECTION, (_name: string, value: unknown) => parseReleasesPolicy(value)],
]);

/** Finds the platform module for raw evidence bytes, or throws FORMAT_UNKNOWN. */
export function detectPlatform(
  bytes: Uint8Array,
  modules: readonly PlatformModule[] = PLATFORM_MODULES,
): PlatformModule {
  const found = modules.find((module) => module.detect(bytes));
  if (found === undefined) {
    throw new VeriteeError(ErrorCode.FORMAT_UNKNOWN, 'evidence format not recognised', {
      details: `tried ${modules.flatMap((module) => module.platforms).join(', ')}`,
    });
  }
  return found;
}

/** Section parsers of every known platform, for `parsePolicy`. */
export function policySectionParsers(
  modules: readonly PlatformModule[] = PLATFORM_MODULES,
): Map<string, SectionParser> {
  const parsers = new Map<string, SectionParser>(NON_PLATFORM_SECTIONS);
  for (const module of modules) {
    const parse = module.parsePolicySection;
    if (parse === undefined) continue;
    for (const name of module.policySections ?? [])
      parsers.set(name, (section, value) => parse.call(module, section, value));
  }
  return parsers;
}

/** Parses a policy object with every known platform's sections. */
export function loadPolicy(json: unknown): Policy {
  return parsePolicy(json, policySectionParsers());
}

/** Appraises against the `releases` section; the release-record and log code loads only for such a policy. */
async function appraiseReleases(
  result: AttestationResult,
  policy: ReleasesPolicy,
  bundles: readonly unknown[],
): Promise<AttestationResult> {
  const releases = await wrapErrorsAsync(
    ErrorCode.MODULE_UNAVAILABLE,
    'the release appraisal code could not be loaded',
    () => import('./measure/releases.js'),
  );
  return releases.appraiseReleases(result, policy, bundles);
}

function failedResult(error: unknown, at: Date, platform: Platform | 'unknown'): AttestationResult {
  const typed =
    error instanceof VeriteeError
      ? error
      : new VeriteeError(ErrorCode.EVIDENCE_INVALID, 'verification failed unexpectedly', {
          details: error instanceof Error ? error.message.slice(0, 200) : undefined,
        });
  return {
    platform,
    verified: false,
    verdict: 'contraindicated',
    verifiedAt: at.toISOString(),
    measurements: {},
    debug: false,
    checks: [{ id: 'verification', ok: false, detail: typed.message }],
    errors: [{ code: typed.code, message: typed.message }],
    warnings: [],
    validUntil: null,
    claims: {},
  };
}

/**
 * Verifies and appraises evidence. `input` is raw bytes, or text holding hex or base64 (whitespace
 * ignored). Never throws for bad evidence: the result says what failed.
 */
export async function verify(
  input: Uint8Array | string,
  options: VerifyOptions = {},
): Promise<AttestationResult> {
  const at = options.at ?? new Date();
  let platform: Platform | 'unknown' = 'unknown';
  try {
    if (Number.isNaN(at.getTime()))
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'verification time is not a valid date');
    const bytes = decodeEvidenceInput(typeof input === 'string' ? utf8Encode(input) : input);
    const detected = detectPlatform(bytes, options.platforms);
    platform =
      detected.platforms.length === 1 ? detected.platforms[0]! : (detected.platformOf?.(bytes) ?? 'unknown');
    const module = (await detected.load?.()) ?? detected;
    const policy = options.policy ?? DEFAULT_POLICY;
    const collateral =
      options.collateral === undefined && options.collateralSource !== undefined
        ? await options.collateralSource.resolve(bytes, at)
        : options.collateral;
    const evidence = await module.verifyBytes(bytes, {
      at,
      anchors: options.anchors,
      simulatorRoots: options.simulatorRoots,
      collateral,
      policy,
    });
    platform = evidence.platform;
    const result = buildResult(evidence, policy, module.appraise?.(evidence, policy));
    const releases = policy.sections[RELEASES_SECTION] as ReleasesPolicy | undefined;
    return releases === undefined ? result : await appraiseReleases(result, releases, options.releases ?? []);
  } catch (error) {
    return failedResult(error, at, platform);
  }
}

/** Error codes that mean "this input is not usable evidence" rather than "this evidence is rejected". */
export function isUnusableInput(result: AttestationResult): boolean {
  const code = result.errors[0]?.code;
  return (
    !result.verified &&
    code !== undefined &&
    (code.startsWith('PARSE_') || code === ErrorCode.FORMAT_UNKNOWN || code === ErrorCode.ARGUMENT_INVALID)
  );
}
