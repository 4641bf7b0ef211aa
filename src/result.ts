/**
 * The shapes every platform produces: verified evidence (after parse + verify) and the attestation result
 * (after appraisal). One model for Nitro, SGX, TDX, SEV-SNP and the simulator.
 */
import type { ErrorCode } from './errors.js';

export type Platform = 'nitro' | 'sgx' | 'tdx' | 'sev-snp' | 'sim';

/** AR4SI-style verdict after the policy: accepted, accepted with caveats, or rejected. */
export type Verdict = 'affirming' | 'warning' | 'contraindicated';

/** One check that was run, with what was found. */
export interface Check {
  /** Stable identifier, e.g. `nitro.signature`, `chain`, `policy.measurement.pcr0`. */
  readonly id: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Issue {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Claims every platform can fill in; absent values are undefined. Byte values are lowercase hex. */
export interface CommonClaims {
  /** Register name → lowercase hex (`pcr0`, `mrenclave`, `mrtd`, `rtmr0`, `measurement`, …). */
  readonly measurements: Readonly<Record<string, string>>;
  readonly debug: boolean;
  /** SGX/TDX/SNP report_data (64 bytes). */
  readonly reportData?: string | undefined;
  /** Nitro user_data. */
  readonly userData?: string | undefined;
  /** Nitro public_key. */
  readonly publicKey?: string | undefined;
  /** Nitro nonce. */
  readonly nonce?: string | undefined;
  /** When the evidence says it was produced (Nitro timestamp); undefined when the format has no clock. */
  readonly issuedAt?: Date | undefined;
}

/** Evidence whose signatures, chains and endorsements verified at `at`. */
export interface VerifiedEvidence<PlatformClaims extends object = object> {
  readonly platform: Platform;
  readonly at: Date;
  readonly claims: CommonClaims;
  /** Platform-specific claims, serialisable as JSON. */
  readonly platformClaims: PlatformClaims;
  /** The earliest expiry of anything the verification used (certificate, CRL, collateral). */
  readonly validUntil: Date;
  readonly checks: readonly Check[];
  readonly warnings: readonly Issue[];
  /** Intel TCB evaluation, when the platform has one. */
  readonly tcb?: TcbSummary | undefined;
}

export interface TcbSummary {
  readonly status: string;
  readonly advisoryIds: readonly string[];
  readonly tcbDate?: string | undefined;
  readonly evaluationDataNumber?: number | undefined;
}

export interface AttestationResult {
  readonly platform: Platform | 'unknown';
  /** Signatures, chains and endorsements good at `verifiedAt`. */
  readonly verified: boolean;
  readonly verdict: Verdict;
  /** ISO time the evidence was checked at. */
  readonly verifiedAt: string;
  readonly measurements: Readonly<Record<string, string>>;
  readonly reportData?: string | undefined;
  readonly userData?: string | undefined;
  readonly publicKey?: string | undefined;
  readonly nonce?: string | undefined;
  readonly debug: boolean;
  readonly tcb?: TcbSummary | undefined;
  readonly checks: readonly Check[];
  readonly errors: readonly Issue[];
  readonly warnings: readonly Issue[];
  /** ISO time after which this verdict must not be reused; null when verification failed. */
  readonly validUntil: string | null;
  readonly claims: Readonly<Record<string, unknown>>;
}
