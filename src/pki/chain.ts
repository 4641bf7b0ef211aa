/**
 * Certificate path validation at an explicit time (RFC 5280 §6, the subset TEE vendors use):
 * names chain byte-for-byte, every issuer is a CA allowed to sign certificates, every signature verifies,
 * every certificate is valid at `at`, and the path ends at a pinned trust anchor. Revocation is checked
 * separately (`crl.ts`) because each vendor distributes CRLs differently.
 */
import { equalBytes } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { type Certificate, verifySignedBy } from './certificate.js';

export interface TrustAnchor {
  /** Human name, e.g. `AWS Nitro Enclaves Root G1`. */
  readonly name: string;
  readonly certificate: Certificate;
  /**
   * `vendor` (the default) for real hardware roots; `simulator` for a veritee development root. A chain
   * that ends at a simulator anchor yields evidence whose platform is `sim`, never the real platform.
   */
  readonly kind?: 'vendor' | 'simulator';
}

/** The organisation every veritee simulator root carries in its subject. */
export const SIMULATOR_ORGANIZATION = 'veritee simulator (not real hardware)';

/**
 * True when `anchor` is a simulator root: marked `kind: 'simulator'`, or — a second belt for a root
 * passed by mistake as a vendor anchor — carrying the simulator organisation in its subject.
 */
export function isSimulatorAnchor(anchor: TrustAnchor): boolean {
  return anchor.kind === 'simulator' || anchor.certificate.subject.includes(SIMULATOR_ORGANIZATION);
}

/**
 * True when two anchors are the same root (same certificate) trusted the same way. Compared by
 * fingerprint, not object identity: memoised chains keep the anchor object of the call that verified
 * them first. A root trusted once as a simulator root and once as a vendor root is not the same anchor.
 */
export function sameAnchor(a: TrustAnchor, b: TrustAnchor): boolean {
  if (a === b) return true;
  return (
    a.certificate.fingerprint === b.certificate.fingerprint && isSimulatorAnchor(a) === isSimulatorAnchor(b)
  );
}

export interface ChainOptions {
  /** The verification time. */
  readonly at: Date;
  /** Anchors the path may end at. The last certificate of the path must be one of them (exact DER). */
  readonly anchors: readonly TrustAnchor[];
  /** Maximum certificates in the path, anchor included. Default 8. */
  readonly maxLength?: number;
  /** Extension OIDs a caller understands beyond RFC 5280's, so they may be marked critical. */
  readonly knownCriticalExtensions?: readonly string[];
  /** Prefix for error paths, e.g. `cabundle`. */
  readonly path?: string;
}

export interface VerifiedChain {
  /** Leaf first, anchor last. */
  readonly certificates: readonly Certificate[];
  readonly anchor: TrustAnchor;
  /** The earliest notAfter in the path. */
  readonly validUntil: Date;
}

// RFC 5280 §4.2.1 extensions this module processes or that carry no path-validation meaning.
const STANDARD_EXTENSIONS = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.19', // basicConstraints
  '2.5.29.37', // extKeyUsage
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies
  '2.5.29.17', // subjectAltName
]);

// Verified (child, parent) signature links, keyed by both fingerprints. Whether a parent's key signed a
// child's TBS does not depend on time, but an entry is only used for verifications at or before the
// earlier of the two notAfter dates, and is dropped when asked about a later time: a link is never
// served past its expiry. Dates and trust are rechecked on every use; the cache is bounded (LRU).
const LINK_CACHE_LIMIT = 4096;
const verifiedLinks = new Map<string, number>();

function linkKey(child: Certificate, parent: Certificate): string {
  return `${child.fingerprint}:${parent.fingerprint}`;
}

function linkIsCached(key: string, at: Date): boolean {
  const expiry = verifiedLinks.get(key);
  if (expiry === undefined) return false;
  if (at.getTime() > expiry) {
    verifiedLinks.delete(key);
    return false;
  }
  // Refresh the entry's position so the most recently used links survive eviction.
  verifiedLinks.delete(key);
  verifiedLinks.set(key, expiry);
  return true;
}

function rememberLink(key: string, child: Certificate, parent: Certificate): void {
  if (verifiedLinks.size >= LINK_CACHE_LIMIT)
    verifiedLinks.delete(verifiedLinks.keys().next().value as string);
  verifiedLinks.set(key, Math.min(child.notAfter.getTime(), parent.notAfter.getTime()));
}

/** Forgets every cached link (for tests and benchmarks of the uncached path). */
export function clearChainCache(): void {
  verifiedLinks.clear();
}

/** Checks that `certificate` is valid at `at`. */
export function checkValidity(certificate: Certificate, at: Date, path: string): void {
  if (at.getTime() < certificate.notBefore.getTime()) {
    throw new VeriteeError(
      ErrorCode.CERT_NOT_YET_VALID,
      `certificate "${certificate.subject}" is not valid yet`,
      {
        path,
        details: `valid from ${certificate.notBefore.toISOString()}, checked at ${at.toISOString()}`,
      },
    );
  }
  if (at.getTime() > certificate.notAfter.getTime()) {
    throw new VeriteeError(ErrorCode.CERT_EXPIRED, `certificate "${certificate.subject}" has expired`, {
      path,
      details: `valid until ${certificate.notAfter.toISOString()}, checked at ${at.toISOString()}`,
    });
  }
}

function checkCriticalExtensions(certificate: Certificate, known: ReadonlySet<string>, path: string): void {
  for (const extension of certificate.extensions.values()) {
    if (extension.critical && !STANDARD_EXTENSIONS.has(extension.oid) && !known.has(extension.oid)) {
      throw new VeriteeError(
        ErrorCode.CERT_MALFORMED,
        `unknown critical extension ${extension.oid} in "${certificate.subject}"`,
        { path },
      );
    }
  }
}

/** Checks that `issuer` may issue certificates with `below` non-self-issued CA certificates beneath it. */
function checkIssuerIsCa(issuer: Certificate, below: number, path: string): void {
  if (issuer.isCa !== true) {
    throw new VeriteeError(
      ErrorCode.CERT_NOT_CA,
      `certificate "${issuer.subject}" is not a CA but issued another certificate`,
      { path },
    );
  }
  if (issuer.keyUsage !== undefined && !issuer.keyUsage.keyCertSign) {
    throw new VeriteeError(
      ErrorCode.CERT_KEY_USAGE,
      `certificate "${issuer.subject}" may not sign certificates (keyUsage)`,
      { path },
    );
  }
  if (issuer.pathLength !== undefined && below > issuer.pathLength) {
    throw new VeriteeError(
      ErrorCode.CHAIN_TOO_LONG,
      `path length constraint of "${issuer.subject}" exceeded`,
      {
        path,
        details: `pathLen ${issuer.pathLength}, ${below} CA certificates below it`,
      },
    );
  }
}

async function checkLink(child: Certificate, parent: Certificate, at: Date, path: string): Promise<void> {
  if (!equalBytes(child.issuerDer, parent.subjectDer)) {
    throw new VeriteeError(
      ErrorCode.CHAIN_BROKEN,
      `issuer of "${child.subject}" is not "${parent.subject}"`,
      {
        path,
        details: `certificate names issuer "${child.issuer}"`,
      },
    );
  }
  const key = linkKey(child, parent);
  if (linkIsCached(key, at)) return;
  if (!(await verifySignedBy(child, parent))) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      `signature on "${child.subject}" does not verify with the key of "${parent.subject}"`,
      { path },
    );
  }
  rememberLink(key, child, parent);
}

function findAnchor(certificate: Certificate, anchors: readonly TrustAnchor[]): TrustAnchor | undefined {
  return anchors.find((anchor) => anchor.certificate.fingerprint === certificate.fingerprint);
}

/**
 * Validates `path` (leaf first, each certificate followed by its issuer, ending with a trust anchor).
 * Throws a `VeriteeError` naming the certificate and the failed check.
 */
export async function verifyChain(
  path: readonly Certificate[],
  options: ChainOptions,
): Promise<VerifiedChain> {
  const prefix = options.path ?? 'chain';
  const maxLength = options.maxLength ?? 8;
  if (path.length === 0)
    throw new VeriteeError(ErrorCode.CHAIN_EMPTY, 'certificate chain is empty', { path: prefix });
  if (path.length > maxLength) {
    throw new VeriteeError(
      ErrorCode.CHAIN_TOO_LONG,
      `certificate chain has ${path.length} certificates, at most ${maxLength} allowed`,
      { path: prefix },
    );
  }
  const last = path[path.length - 1]!;
  const anchor = findAnchor(last, options.anchors);
  if (anchor === undefined) {
    throw new VeriteeError(
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
      `chain ends at "${last.subject}", which is not a trusted root`,
      {
        path: `${prefix}[${path.length - 1}]`,
        details: `fingerprint ${last.fingerprint}; trusted: ${options.anchors.map((a) => a.name).join(', ') || 'none'}`,
      },
    );
  }
  const known = new Set(options.knownCriticalExtensions ?? []);
  let validUntil = last.notAfter;
  let caBelow = 0;
  for (let i = 0; i < path.length; i++) {
    const certificate = path[i]!;
    const certPath = `${prefix}[${i}]`;
    checkValidity(certificate, options.at, certPath);
    checkCriticalExtensions(certificate, known, certPath);
    if (certificate.notAfter < validUntil) validUntil = certificate.notAfter;
    if (i === 0) continue;
    const child = path[i - 1]!;
    // RFC 5280 §6.1.4 (h): intermediates below this issuer count toward its pathLen, self-issued ones do not.
    if (i >= 2 && !equalBytes(child.subjectDer, child.issuerDer)) caBelow++;
    checkIssuerIsCa(certificate, caBelow, certPath);
    await checkLink(child, certificate, options.at, `${prefix}[${i - 1}]`);
  }
  // The anchor is trusted by pinning; its own self-signature is checked when it is loaded.
  return { certificates: path, anchor, validUntil };
}

/**
 * Checks a self-signed certificate's own signature and returns it as an anchor. Used when loading the
 * embedded roots and any root a caller adds.
 */
export async function makeTrustAnchor(name: string, certificate: Certificate): Promise<TrustAnchor> {
  if (
    !equalBytes(certificate.issuerDer, certificate.subjectDer) ||
    !(await verifySignedBy(certificate, certificate))
  ) {
    throw new VeriteeError(
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
      `root "${certificate.subject}" is not a valid self-signed certificate`,
      {
        path: name,
      },
    );
  }
  return { name, certificate };
}
