/**
 * The DCAP quote header fields the registry needs to recognise a quote without loading the quote parser
 * (`quote.ts` holds the full layout). Offsets and values: [SGX-QL] Appendix A "Quote Header" and
 * [TDX-QL] Appendix A "TD Quote Header" (see `quote.ts` for the document names).
 */
import type { Platform } from '../../result.js';

/** [SGX-QL]/[TDX-QL] Quote Header: 48 bytes. */
export const HEADER_SIZE = 48;
/** [SGX-QL] "ISV Enclave Report Body" / sgx_report_body_t: 384 bytes. */
export const SGX_REPORT_SIZE = 384;
/** [SGX-QL] Quote Header "Attestation Key Type". */
export const AttestationKeyType = { ECDSA_P256: 2, ECDSA_P384: 3 } as const;
/** [TDX-QL] Quote Header "TEE Type". */
export const TeeTypeValue = { SGX: 0x00000000, TDX: 0x00000081 } as const;

/** The u32 "TEE Type" (little-endian) at header offset 4; the caller checks there are 8 bytes. */
function teeTypeField(bytes: Uint8Array): number {
  return (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
}

/** Cheap structural sniff: version 3–5, a known key type and TEE type. Never throws. */
export function looksLikeQuote(bytes: Uint8Array): boolean {
  if (!(bytes instanceof Uint8Array) || bytes.length < HEADER_SIZE + SGX_REPORT_SIZE + 4) return false;
  const version = bytes[0]! | (bytes[1]! << 8);
  const keyType = bytes[2]! | (bytes[3]! << 8);
  const tee = teeTypeField(bytes);
  if (version < 3 || version > 5) return false;
  if (keyType !== AttestationKeyType.ECDSA_P256 && keyType !== AttestationKeyType.ECDSA_P384) return false;
  return tee === TeeTypeValue.SGX || (tee === TeeTypeValue.TDX && version !== 3);
}

/** Which platform a quote's header claims (`sgx` or `tdx`), for results of quotes that fail. Never throws. */
export function quoteTeeType(bytes: Uint8Array): Platform | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) return undefined;
  const tee = teeTypeField(bytes);
  return tee === TeeTypeValue.SGX ? 'sgx' : tee === TeeTypeValue.TDX ? 'tdx' : undefined;
}
