/**
 * `veritee/dcap`: Intel SGX and TDX DCAP quote verification with Intel's TCB evaluation.
 *
 * parse (`parseQuote`) → verify with collateral at a time (`verifyDcapQuote`) → appraise the `tcb` policy
 * section (`appraiseDcap`). Browser-safe: no `node:` imports. Reading collateral from files is left to
 * the caller (the CLI does it; see `src/cli/`).
 */
import type { Platform, VerifiedEvidence } from '../../result.js';
import type { PlatformModule, PlatformVerifyOptions } from '../types.js';
import { appraiseDcap } from './appraise.js';
import { parseTcbPolicy } from './policy.js';
import { looksLikeQuote, TeeTypeValue } from './quote.js';
import { verifyDcapQuote } from './verify.js';

export { appraiseDcap } from './appraise.js';
export {
  type CollateralCheck,
  type CollateralCheckOptions,
  checkCollateralAt,
  clearCollateralCache,
  collateralFromPcsFiles,
  type DcapCollateral,
  type DcapCollateralFiles,
  type IsvSvnLevel,
  PCS_FILES,
  parseDcapCollateral,
  parseQeIdentity,
  parseTcbInfo,
  type QeIdentity,
  type SignedCollateral,
  TCB_STATUSES,
  type TcbInfo,
  type TcbLevel,
  type TcbStatus,
  type TdxModule,
  type TdxModuleIdentity,
  verifyCollateralSignatures,
} from './collateral.js';
export { type PckExtension, parsePckExtension, SGX_EXTENSION_OID, type SgxType } from './pck.js';
export { DEFAULT_TCB_POLICY, parseTcbPolicy, type TcbPolicy } from './policy.js';
export {
  INTEL_QE_VENDOR_ID,
  looksLikeQuote,
  parseQuote,
  type QeCertification,
  type Quote,
  type QuoteBody,
  type QuoteHeader,
  type SgxReport,
  type TdReport,
  type TeeType,
} from './quote.js';
export { type ComponentResult, evaluateTcb, type TcbEvaluation } from './tcb.js';
export {
  clearQuoteCaches,
  type DcapClaims,
  type DcapTcbClaims,
  type DcapVerifyOptions,
  type SgxClaims,
  type TdxClaims,
  verifyDcapQuote,
} from './verify.js';

/** The DCAP platform module: SGX and TDX quotes. */
export const dcapPlatform: PlatformModule = {
  platforms: ['sgx', 'tdx'],
  policySections: ['tcb'],
  detect: looksLikeQuote,
  platformOf(bytes: Uint8Array): Platform | undefined {
    // [TDX-QL] Quote Header: "TEE Type" is the u32 (little-endian) at offset 4.
    if (bytes.length < 8) return undefined;
    const teeType = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
    return teeType === TeeTypeValue.SGX ? 'sgx' : teeType === TeeTypeValue.TDX ? 'tdx' : undefined;
  },
  async verifyBytes(bytes: Uint8Array, options: PlatformVerifyOptions): Promise<VerifiedEvidence> {
    return verifyDcapQuote(bytes, {
      at: options.at,
      anchors: options.anchors,
      simulatorRoots: options.simulatorRoots,
      collateral: options.collateral,
      policy: options.policy,
    });
  },
  parsePolicySection(name: string, value: unknown): unknown {
    return parseTcbPolicy(value, `policy/${name}`);
  },
  appraise: appraiseDcap,
};
