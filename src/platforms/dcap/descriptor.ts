/** What the registry keeps loaded for Intel DCAP: the quote header sniff and the `tcb` and `tdx` policy sections. */

import { ErrorCode, VeriteeError } from '../../errors.js';
import type { PlatformDescriptor } from '../types.js';
import { looksLikeQuote, quoteTeeType } from './header.js';
import { parseTcbPolicy, parseTdxPolicy } from './policy.js';

export const DCAP_DESCRIPTOR: PlatformDescriptor = {
  platforms: ['sgx', 'tdx'],
  policySections: ['tcb', 'tdx'],
  detect: looksLikeQuote,
  platformOf: quoteTeeType,
  parsePolicySection(name: string, value: unknown): unknown {
    if (name === 'tcb') return parseTcbPolicy(value, `policy/${name}`);
    if (name === 'tdx') return parseTdxPolicy(value, `policy/${name}`);
    throw new VeriteeError(
      ErrorCode.POLICY_INVALID,
      `the Intel DCAP module has no policy section "${name}"`,
      {
        path: `policy/${name}`,
      },
    );
  },
};
