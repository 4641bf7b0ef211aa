/** What the registry keeps loaded for Intel DCAP: the quote header sniff and the `tcb` policy section. */
import type { PlatformDescriptor } from '../types.js';
import { looksLikeQuote, quoteTeeType } from './header.js';
import { parseTcbPolicy } from './policy.js';

export const DCAP_DESCRIPTOR: PlatformDescriptor = {
  platforms: ['sgx', 'tdx'],
  policySections: ['tcb'],
  detect: looksLikeQuote,
  platformOf: quoteTeeType,
  parsePolicySection(name: string, value: unknown): unknown {
    return parseTcbPolicy(value, `policy/${name}`);
  },
};
