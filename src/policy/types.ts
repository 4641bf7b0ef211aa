/**
 * The appraisal policy: what a relying party accepts. Every field is optional; an unset field is not
 * checked, except `allowDebug` (default false) and `platforms` (default: every real platform, never the
 * simulator). Platform-specific sections (`tcb` for Intel, `snp` for AMD) are validated by their platform.
 */
import type { Platform } from '../result.js';

/** A byte value compared exactly or by digest; all values lowercase hex. */
export type ByteMatch =
  | { readonly equals: string }
  | { readonly sha256: string }
  | { readonly sha384: string }
  | { readonly sha512: string };

export interface Policy {
  /** Platforms accepted. Default: nitro, sgx, tdx, sev-snp. `sim` must be named to be accepted. */
  readonly platforms?: readonly Platform[] | undefined;
  /** Register → allowed values (any-of), lowercase hex. Registers not listed are not checked. */
  readonly measurements?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Accept debug-mode enclaves. Default false. */
  readonly allowDebug: boolean;
  /** Expected nonce (Nitro `nonce`), lowercase hex. */
  readonly nonce?: string | undefined;
  /** Maximum age of the evidence in seconds, measured from its timestamp to `at`. */
  readonly maxAgeSeconds?: number | undefined;
  readonly userData?: ByteMatch | undefined;
  readonly publicKey?: ByteMatch | undefined;
  readonly reportData?: ByteMatch | undefined;
  /** Platform sections, kept as validated JSON and interpreted by their platform module. */
  readonly sections: Readonly<Record<string, unknown>>;
}

export const DEFAULT_PLATFORMS: readonly Platform[] = ['nitro', 'sgx', 'tdx', 'sev-snp'];
