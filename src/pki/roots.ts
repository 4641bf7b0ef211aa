/**
 * Pinned vendor roots. A root is loaded from its embedded PEM only if its DER hashes to the pinned
 * fingerprint. The pin fixes every byte, so the root's self-signature is a constant: test/pki.test.ts
 * verifies it for each embedded root instead of every process paying a P-384/RSA verification at start.
 * (RFC 5280 §6.1 takes a trust anchor as input and never checks its signature.) Callers may pass their
 * own anchors to any verifier; those are checked to be self-signed; nothing is added to the defaults
 * behind their back.
 */
import { equalBytes } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { type Certificate, parsePemCertificates } from './certificate.js';
import { makeTrustAnchor, type TrustAnchor } from './chain.js';
import type { EmbeddedCertificate } from './embedded.js';

/** Parses an embedded certificate and checks its pinned SHA-256 fingerprint. */
export function loadPinnedCertificate(embedded: EmbeddedCertificate): Certificate {
  const [certificate] = parsePemCertificates(embedded.pem, embedded.id);
  if (certificate === undefined || certificate.fingerprint !== embedded.sha256) {
    throw new VeriteeError(
      ErrorCode.ROOT_PIN_MISMATCH,
      `embedded certificate ${embedded.name} does not match its pinned fingerprint`,
      {
        path: embedded.id,
        details: `expected ${embedded.sha256}, got ${certificate?.fingerprint ?? 'nothing'}`,
      },
    );
  }
  return certificate;
}

const anchorCache = new Map<string, Promise<TrustAnchor>>();

/** The embedded root as a trust anchor (pin checked once per process). */
export function pinnedAnchor(embedded: EmbeddedCertificate): Promise<TrustAnchor> {
  let anchor = anchorCache.get(embedded.id);
  if (anchor === undefined) {
    anchor = (async () => pinnedTrustAnchor(embedded))();
    anchorCache.set(embedded.id, anchor);
    anchor.catch(() => anchorCache.delete(embedded.id));
  }
  return anchor;
}

function pinnedTrustAnchor(embedded: EmbeddedCertificate): TrustAnchor {
  const certificate = loadPinnedCertificate(embedded);
  if (!equalBytes(certificate.issuerDer, certificate.subjectDer)) {
    throw new VeriteeError(
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
      `embedded root ${embedded.name} is not self-issued`,
      { path: embedded.id },
    );
  }
  return { name: embedded.name, certificate };
}

/** A caller-supplied root (PEM), checked to be self-signed. */
export async function customAnchor(name: string, pem: string): Promise<TrustAnchor> {
  const [certificate] = parsePemCertificates(pem, name);
  return makeTrustAnchor(name, certificate!);
}
