/** Every platform the top-level `verify` knows, in detection order. */
import { dcapPlatform } from './dcap/index.js';
import { nitroPlatform } from './nitro/index.js';
import { snpPlatform } from './snp/index.js';
import type { PlatformModule } from './types.js';

export const PLATFORM_MODULES: readonly PlatformModule[] = [nitroPlatform, dcapPlatform, snpPlatform];
