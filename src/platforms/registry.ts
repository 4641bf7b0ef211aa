/**
 * Every platform the top-level `verify` knows, in detection order. Only each platform's descriptor
 * (format sniff, policy-section parser) is loaded with the library; its parse/verify/appraise code is a
 * separate bundle file imported the first time evidence of that platform arrives (`lazy.ts`).
 */
import { DCAP_DESCRIPTOR } from './dcap/descriptor.js';
import { lazyPlatform } from './lazy.js';
import { NITRO_DESCRIPTOR } from './nitro/descriptor.js';
import { SNP_DESCRIPTOR } from './snp/descriptor.js';
import type { PlatformModule } from './types.js';

export const PLATFORM_MODULES: readonly PlatformModule[] = [
  lazyPlatform(NITRO_DESCRIPTOR, async () => (await import('./nitro/index.js')).nitroPlatform),
  lazyPlatform(DCAP_DESCRIPTOR, async () => (await import('./dcap/index.js')).dcapPlatform),
  lazyPlatform(SNP_DESCRIPTOR, async () => (await import('./snp/index.js')).snpPlatform),
];
