/**
 * `veritee/snp`: AMD SEV-SNP attestation reports (Milan, Genoa, Turin), VCEK and VLEK chains, TCB policy.
 *
 * parse (`report.ts`, `certtable.ts`, `vcek.ts`) → verify at a time (`verify.ts`) → appraise (`appraise.ts`).
 */
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { PlatformModule } from '../types.js';
import { appraiseSnp, parseSnpPolicy } from './appraise.js';
import { asSnpCollateral } from './collateral.js';
import { looksLikeReport } from './report.js';
import { verifySnpBytes } from './verify.js';

export {
  appraiseSnp,
  type PolicyBitName,
  parseSnpPolicy,
  type SnpPolicy,
  type TcbFloor,
  type TcbRequirement,
} from './appraise.js';
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
export {
  type Cpuid,
  decodeGuestPolicy,
  decodePlatformInfo,
  type FirmwareVersion,
  type GuestPolicy,
  looksLikeReport,
  type PlatformInfo,
  parseReport,
  REPORT_SIZE,
  SIGNED_SIZE,
  type SignerInfo,
  type SigningKeyKind,
  type SnpReport,
  SUPPORTED_VERSIONS,
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
  platforms: ['sev-snp'],
  policySections: ['snp'],
  detect(bytes) {
    try {
      return bytes instanceof Uint8Array && looksLikeReport(bytes);
    } catch {
      return false;
    }
  },
  verifyBytes(bytes, options) {
    return verifySnpBytes(bytes, {
      at: options.at,
      anchors: options.anchors,
      collateral: asSnpCollateral(options.collateral),
    });
  },
  parsePolicySection(name, value) {
    if (name !== 'snp') {
      throw new VeriteeError(ErrorCode.POLICY_INVALID, `the SEV-SNP module has no policy section "${name}"`, {
        path: name,
      });
    }
    return parseSnpPolicy(value);
  },
  appraise(evidence, policy) {
    return appraiseSnp(evidence, policy);
  },
};
