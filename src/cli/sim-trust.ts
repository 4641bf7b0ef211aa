/**
 * `--trust-sim`, `--sim-dir`, `--sim-root`: how a verifying command (`verify`, `connect`) opts in to the
 * simulator. The roots are loaded as simulator roots (their evidence verifies as platform `sim`) and `sim`
 * is added to the policy's platforms; a policy that lists `sim` itself also loads the roots.
 */
import { utf8Decode } from '../bytes.js';
import type { TrustAnchor } from '../pki/chain.js';
import { DEFAULT_PLATFORMS, type Policy } from '../policy/types.js';
import { simulatorAnchors, simulatorAnchorsFromPem, simulatorDir } from '../runtime/sim/store.js';
import { readInput } from './io.js';

export interface SimTrustOptions {
  readonly trustSim?: boolean;
  readonly simDir?: string;
  readonly simRoot?: string;
}

/** The simulator roots to trust: none unless asked for by the flag or the policy. */
export async function simulatorRootsFor(options: SimTrustOptions, policy: Policy): Promise<TrustAnchor[]> {
  const wanted = options.trustSim === true || (policy.platforms ?? []).includes('sim');
  if (!wanted) return [];
  if (options.simRoot !== undefined) {
    return simulatorAnchorsFromPem(utf8Decode(readInput(options.simRoot, 'simulator root')), options.simRoot);
  }
  return simulatorAnchors(options.simDir ?? simulatorDir());
}

/** `policy` with `sim` added to its platforms when `--trust-sim` is given. */
export function withSimPlatform(policy: Policy, options: SimTrustOptions): Policy {
  if (!options.trustSim) return policy;
  const platforms = policy.platforms ?? DEFAULT_PLATFORMS;
  return platforms.includes('sim') ? policy : { ...policy, platforms: [...platforms, 'sim'] };
}
