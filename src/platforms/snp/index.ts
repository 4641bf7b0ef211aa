/**
 * `veritee/snp`: AMD SEV-SNP attestation reports (Milan, Genoa, Turin), VCEK and VLEK chains, TCB policy.
 *
 * parse (`report.ts`, `certtable.ts`, `vcek.ts`) → verify at a time (`verify.ts`) → appraise (`appraise.ts`).
 */
import type { PlatformModule } from '../types.js';
import { appraiseSnp } from './appraise.js';
import { asSnpCollateral } from './collateral.js';
import { SNP_DESCRIPTOR } from './descriptor.js';
import { verifySnpBytes } from './verify.js';

export { appraiseSnp } from './appraise.js';
export {
  type CertTableEntry,
  type CertTableKind,
  findEntry,
  formatGuid,
  MAX_ENTRIES,
  parseCertTable,
} from './certtable.js';
export {
  asSnpCollateral,
  type BytesOrText,
  decodeCertificates,
  decodeCrls,
  type SnpCollateral,
} from './collateral.js';
export { looksLikeReport, REPORT_SIZE, SUPPORTED_VERSIONS } from './layout.js';
export {
  type PolicyBitName,
  parseSnpPolicy,
  type SnpPolicy,
  type TcbFloor,
  type TcbRequirement,
} from './policy.js';
export {
  type Cpuid,
  decodeGuestPolicy,
  decodePlatformInfo,
  type FirmwareVersion,
  type GuestPolicy,
  type PlatformInfo,
  parseReport,
  SIGNED_SIZE,
  type SignerInfo,
  type SigningKeyKind,
  type SnpReport,
} from './report.js';
export {
  decodeTcb,
  hasFmc,
  PRODUCTS,
  type Product,
  productFromCpuid,
  productFromName,
  TCB_COMPONENTS,
  type TcbComponent,
  type TcbVersion,
  tcbComponentsBelow,
} from './tcb.js';
export {
  AMD_EXTENSION_OIDS,
  AmdOid,
  checkVekHwId,
  checkVekTcb,
  parseVekExtensions,
  type VekInfo,
} from './vcek.js';
export {
  amdRootAnchor,
  type SnpClaims,
  type SnpVerifiedEvidence,
  type SnpVerifyOptions,
  splitExtendedReport,
  verifySnpBytes,
  verifySnpReport,
} from './verify.js';

/** The SEV-SNP platform module for the top-level `verify()`. */
export const snpPlatform: PlatformModule = {
  ...SNP_DESCRIPTOR,
  verifyBytes(bytes, options) {
    return verifySnpBytes(bytes, {
      at: options.at,
      anchors: options.anchors,
      collateral: asSnpCollateral(options.collateral),
    });
  },
  appraise(evidence, policy) {
    return appraiseSnp(evidence, policy);
  },
};
