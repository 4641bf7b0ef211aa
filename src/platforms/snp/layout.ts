/**
 * The ATTESTATION_REPORT fields the registry needs to recognise a report without loading the parser
 * (AMD SEV-SNP ABI specification, doc 56860, §7.3 Table 23; `report.ts` holds the full layout).
 */

/** Total size of the report (Table 23: 0x000–0x49F). */
export const REPORT_SIZE = 0x4a0;

/** Report versions this parser understands (ABI 1.55: v2; 1.56/1.57: v3 adds CPUID; 1.58: v5 adds MIT vectors). */
export const SUPPORTED_VERSIONS: readonly number[] = [2, 3, 5];

/** SIGNATURE_ALGO values (Chapter 10 Table 139). Only 1 is defined. */
export const SIG_ALGO_ECDSA_P384_SHA384 = 1;

/** Cheap sniff: does `bytes` start with something shaped like a report (VERSION, SIGNATURE_ALGO)? Never throws. */
export function looksLikeReport(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length < REPORT_SIZE) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(0x00, true);
  const algo = view.getUint32(0x34, true);
  return SUPPORTED_VERSIONS.includes(version) && algo === SIG_ALGO_ECDSA_P384_SHA384;
}
