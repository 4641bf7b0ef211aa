/**
 * `veritee/dcap`: Intel SGX and TDX DCAP quote verification with Intel's TCB evaluation.
 *
 * parse (`parseQuote`) → verify with collateral at a time (`verifyDcapQuote`) → appraise the `tcb` policy
 * section (`appraiseDcap`). Browser-safe: no `node:` imports. Reading collateral from files is left to
 * the caller (the CLI does it; see `src/cli/`).
 */
import type { VerifiedEvidence } from '../../result.js';
import type { PlatformModule, PlatformVerifyOptions } from '../types.js';
import { appraiseDcap } from './appraise.js';
import { DCAP_DESCRIPTOR } from './descriptor.js';
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
  type TcbInfo,
  type TcbLevel,
  type TdxModule,
  type TdxModuleIdentity,
  verifyCollateralSignatures,
} from './collateral.js';
export { looksLikeQuote } from './header.js';
export { type PckExtension, parsePckExtension, SGX_EXTENSION_OID, type SgxType } from './pck.js';
export {
  DEFAULT_TCB_POLICY,
  DEFAULT_TDX_POLICY,
  parseTcbPolicy,
  parseTdxPolicy,
  type TcbPolicy,
  type TdxPolicy,
} from './policy.js';
export {
  INTEL_QE_VENDOR_ID,
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
export { TCB_STATUSES, type TcbStatus } from './tcb-status.js';
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
  ...DCAP_DESCRIPTOR,
  async verifyBytes(bytes: Uint8Array, options: PlatformVerifyOptions): Promise<VerifiedEvidence> {
    return verifyDcapQuote(bytes, {
      at: options.at,
      anchors: options.anchors,
      simulatorRoots: options.simulatorRoots,
      collateral: options.collateral,
      policy: options.policy,
    });
  },
  appraise: appraiseDcap,
};
