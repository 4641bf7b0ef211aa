/**
 * Platform modules whose parse/verify/appraise code loads on first use. The registry keeps only each
 * platform's descriptor loaded (format sniff, policy-section parser: small and synchronous) and imports
 * the rest with a dynamic `import()` the first time evidence of that platform arrives, so loading the
 * library and verifying a Nitro document never compile the Intel or AMD code (the bundler turns each
 * dynamic import into its own file).
 */
import { ErrorCode, VeriteeError, wrapErrorsAsync } from '../errors.js';
import type { Policy } from '../policy/types.js';
import type { VerifiedEvidence } from '../result.js';
import type { PlatformAppraisal, PlatformDescriptor, PlatformModule } from './types.js';

/**
 * A `PlatformModule` that behaves like the one `load` resolves to. `verifyBytes` loads it first;
 * `appraise` needs it loaded already (it is synchronous, and appraisal follows verification). A failed
 * load rejects with MODULE_UNAVAILABLE and is not cached: the next call imports again.
 */
export function lazyPlatform(
  descriptor: PlatformDescriptor,
  load: () => Promise<PlatformModule>,
): PlatformModule {
  const name = descriptor.platforms.join('/');
  let loading: Promise<PlatformModule> | undefined;
  let loaded: PlatformModule | undefined;

  function loadOnce(): Promise<PlatformModule> {
    loading ??= wrapErrorsAsync(
      ErrorCode.MODULE_UNAVAILABLE,
      `the ${name} verification code could not be loaded`,
      load,
    ).then(
      (module) => {
        loaded = module;
        return module;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  }

  return {
    ...descriptor,
    load: loadOnce,
    async verifyBytes(bytes, options) {
      return (await loadOnce()).verifyBytes(bytes, options);
    },
    appraise(evidence: VerifiedEvidence, policy: Policy): PlatformAppraisal {
      if (loaded === undefined) {
        throw new VeriteeError(
          ErrorCode.ARGUMENT_INVALID,
          `the ${name} code is not loaded yet: call verifyBytes or load before appraise`,
        );
      }
      return loaded.appraise?.(evidence, policy) ?? { checks: [], warnings: [] };
    },
  };
}
