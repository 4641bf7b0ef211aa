/**
 * What every platform module provides. The top-level `verify` detects the format, loads the module's
 * code if it is kept out of the initial bundle (`load`), calls `verifyBytes` (parse + cryptographic
 * verification at `at`), then appraises the common claims and asks the platform to appraise its own
 * policy section.
 */
import type { TrustAnchor } from '../pki/chain.js';
import type { Policy } from '../policy/types.js';
import type { Check, Issue, Platform, VerifiedEvidence } from '../result.js';

export interface PlatformVerifyOptions {
  /** Verification time. */
  readonly at: Date;
  /** Replace the embedded vendor roots (never merged silently). */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /**
   * Simulator development roots, trusted in addition to the vendor roots only because the caller named
   * them. Evidence chaining to one verifies as platform `sim`, which the default policy rejects.
   */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
  /** Platform-specific endorsements (Intel collateral, AMD VCEK and chain, …). */
  readonly collateral?: unknown;
  /** The policy, for verification steps a policy may relax (e.g. a collateral grace period). */
  readonly policy?: Policy | undefined;
}

export interface PlatformAppraisal {
  readonly checks: readonly Check[];
  readonly warnings: readonly Issue[];
}

export interface PlatformModule {
  /** Platforms this module produces (`dcap` produces `sgx` and `tdx`). */
  readonly platforms: readonly Platform[];
  /** Cheap structural sniff of raw evidence bytes; never throws. */
  detect(bytes: Uint8Array): boolean;
  /** Which of `platforms` detected bytes claim to be (e.g. a quote's TEE type), for failed results; never throws. */
  platformOf?(bytes: Uint8Array): Platform | undefined;
  /** Parses and verifies; throws a VeriteeError when anything fails. */
  verifyBytes(bytes: Uint8Array, options: PlatformVerifyOptions): Promise<VerifiedEvidence>;
  /** Names of the policy sections this platform owns (e.g. `tcb`, `snp`). */
  readonly policySections?: readonly string[];
  /** Validates one of this platform's policy sections (called when a policy file is loaded). */
  parsePolicySection?(name: string, value: unknown): unknown;
  /** Appraises platform-specific policy (TCB status, SNP policy bits, …). Pure; no I/O. */
  appraise?(evidence: VerifiedEvidence, policy: Policy): PlatformAppraisal;
  /**
   * Present on modules whose parse/verify/appraise code loads on first use (the registry's, see
   * `lazy.ts`): resolves to the complete module, or rejects with MODULE_UNAVAILABLE.
   */
  load?(): Promise<PlatformModule>;
}

/** The parts of a platform module the registry keeps loaded: the format sniff and the policy parsers. */
export type PlatformDescriptor = Pick<
  PlatformModule,
  'platforms' | 'detect' | 'platformOf' | 'policySections' | 'parsePolicySection'
>;
