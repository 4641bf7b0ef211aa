/**
 * veritee: verify what runs in Trusted Execution Environments.
 *
 * `verify(evidence, {at, policy, collateral})` detects the platform, verifies the evidence against the
 * pinned vendor roots at a time, appraises it against a policy and returns an `AttestationResult`.
 */
export {
  concatBytes,
  decodeEvidenceInput,
  equalBytes,
  fromBase64,
  fromHex,
  toBase64,
  toBase64Url,
  toHex,
} from './bytes.js';
export { ErrorCode, isVeriteeError, VeriteeError } from './errors.js';
export { PLATFORM_MODULES } from './platforms/registry.js';
export type { PlatformModule, PlatformVerifyOptions } from './platforms/types.js';
export {
  EAR_PROFILES,
  type EarClaims,
  type EarOptions,
  signEar,
  toEar,
  trustworthinessVector,
  type VerifiedEar,
  verifyEarJwt,
} from './policy/ear.js';
export { DEFAULT_POLICY, parsePolicy, parsePolicyText } from './policy/parse.js';
export type { ByteMatch, Policy } from './policy/types.js';
export type {
  AttestationResult,
  Check,
  CommonClaims,
  Issue,
  Platform,
  TcbSummary,
  Verdict,
  VerifiedEvidence,
} from './result.js';
export {
  type CollateralSource,
  detectPlatform,
  isUnusableInput,
  loadPolicy,
  policySectionParsers,
  type VerifyOptions,
  verify,
} from './verify.js';
