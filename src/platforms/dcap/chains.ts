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
import {
  type Certificate,
  type ChainOptions,
  type TrustAnchor,
  type VerifiedChain,
  verifyChain,
} from '../../pki/index.js';

interface Memo {
  readonly chain: VerifiedChain;
  readonly from: number;
  readonly until: number;
  /** What the answer depends on besides the chain: each anchor's kind and fingerprint, in order. */
  readonly kinds: readonly string[];
  readonly fingerprints: readonly string[];
  readonly maxLength: number | undefined;
  readonly criticalExtensions: string;
}

const MEMOS_PER_CHAIN = 8;
const memos = new WeakMap<readonly Certificate[], Memo[]>();

function kindOf(anchor: TrustAnchor): string {
  return anchor.kind ?? 'vendor';
}

function criticalExtensionsOf(options: ChainOptions): string {
  return options.knownCriticalExtensions === undefined ? '' : options.knownCriticalExtensions.join(',');
}

/**
 * The anchor set is compared field by field on every call, read from the caller's anchors as they are now
 * (no key string is built). The kind is part of it: the same root trusted as a simulator root must never be
 * answered with a chain memoised while it was trusted as a vendor root (or the reverse).
 */
function matches(memo: Memo, options: ChainOptions): boolean {
  const anchors = options.anchors;
  if (anchors.length !== memo.fingerprints.length || options.maxLength !== memo.maxLength) return false;
  for (let i = 0; i < anchors.length; i++) {
    const anchor = anchors[i]!;
    if (anchor.certificate.fingerprint !== memo.fingerprints[i] || kindOf(anchor) !== memo.kinds[i]) {
      return false;
    }
  }
  const critical = options.knownCriticalExtensions;
  return critical === undefined || critical.length === 0
    ? memo.criticalExtensions === ''
    : criticalExtensionsOf(options) === memo.criticalExtensions;
}

export async function verifyChainMemo(
  certificates: readonly Certificate[],
  options: ChainOptions,
): Promise<VerifiedChain> {
  return knownChain(certificates, options) ?? (await verifyAndRemember(certificates, options));
}

/** The memoised answer for this chain, anchor set and `at`, if there is one (no work otherwise). */
export function knownChain(
  certificates: readonly Certificate[],
  options: ChainOptions,
): VerifiedChain | undefined {
  const list = memos.get(certificates);
  if (list === undefined) return undefined;
  const at = options.at.getTime();
  for (const memo of list) {
    if (matches(memo, options)) return at >= memo.from && at <= memo.until ? memo.chain : undefined;
  }
  return undefined;
}

async function verifyAndRemember(
  certificates: readonly Certificate[],
  options: ChainOptions,
): Promise<VerifiedChain> {
  const chain = await verifyChain(certificates, options);
  let from = Number.NEGATIVE_INFINITY;
  for (const certificate of certificates) from = Math.max(from, certificate.notBefore.getTime());
  let list = memos.get(certificates);
  if (list === undefined) {
    list = [];
    memos.set(certificates, list);
  }
  const memo: Memo = {
    chain,
    from,
    until: chain.validUntil.getTime(),
    kinds: options.anchors.map(kindOf),
    fingerprints: options.anchors.map((anchor) => anchor.certificate.fingerprint),
    maxLength: options.maxLength,
    criticalExtensions: criticalExtensionsOf(options),
  };
  const index = list.findIndex((other) => matches(other, options));
  if (index >= 0) list[index] = memo;
  else {
    if (list.length >= MEMOS_PER_CHAIN) list.length = 0;
    list.push(memo);
  }
  return chain;
}
