/** What the registry keeps loaded for AMD SEV-SNP: the report sniff and the `snp` policy section. */
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { PlatformDescriptor } from '../types.js';
import { looksLikeReport } from './layout.js';
import { parseSnpPolicy } from './policy.js';

export const SNP_DESCRIPTOR: PlatformDescriptor = {
  platforms: ['sev-snp'],
  policySections: ['snp'],
  detect: looksLikeReport,
  parsePolicySection(name: string, value: unknown): unknown {
    if (name !== 'snp') {
      throw new VeriteeError(ErrorCode.POLICY_INVALID, `the SEV-SNP module has no policy section "${name}"`, {
        path: name,
      });
    }
    return parseSnpPolicy(value);
  },
};
