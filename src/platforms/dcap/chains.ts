/**
 * `verifyChain` with a memo for chains that repeat (the collateral issuer chains, a platform's PCK chain).
 *
 * A successful `verifyChain` establishes facts that do not depend on time (names chain, every issuer is a
 * CA, every signature verifies, the path ends at this anchor) plus one that does: every certificate is
 * valid at `at`. The memo keeps the first kind per (chain object, anchor set) together with the window
 * [latest notBefore, earliest notAfter]; a later call whose `at` lies inside that window gets the same
 * answer without redoing the work, and any other call runs `verifyChain` again (and fails the same way).
 * Revocation is not part of it: callers check CRLs on every use.
 */
import { type Certificate, type ChainOptions, type VerifiedChain, verifyChain } from '../../pki/index.js';

interface Memo {
  readonly chain: VerifiedChain;
  readonly from: number;
  readonly until: number;
}

const memos = new WeakMap<readonly Certificate[], Map<string, Memo>>();

function keyOf(options: ChainOptions): string {
  // The kind is part of the key: the same root trusted as a simulator root must never be answered with a
  // chain memoised while it was trusted as a vendor root (or the reverse).
  const anchors = options.anchors
    .map((anchor) => `${anchor.kind ?? 'vendor'}:${anchor.certificate.fingerprint}`)
    .join(',');
  return `${anchors}|${options.maxLength ?? ''}|${(options.knownCriticalExtensions ?? []).join(',')}`;
}

export async function verifyChainMemo(
  certificates: readonly Certificate[],
  options: ChainOptions,
): Promise<VerifiedChain> {
  const key = keyOf(options);
  const at = options.at.getTime();
  const known = memos.get(certificates)?.get(key);
  if (known !== undefined && at >= known.from && at <= known.until) return known.chain;
  const chain = await verifyChain(certificates, options);
  let from = Number.NEGATIVE_INFINITY;
  for (const certificate of certificates) from = Math.max(from, certificate.notBefore.getTime());
  let byKey = memos.get(certificates);
  if (byKey === undefined) {
    byKey = new Map();
    memos.set(certificates, byKey);
  }
  if (byKey.size > 8) byKey.clear();
  byKey.set(key, { chain, from, until: chain.validUntil.getTime() });
  return chain;
}
