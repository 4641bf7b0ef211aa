/**
 * Verification of a Nitro attestation document at a time `at`: the ES384 COSE signature by the leaf
 * certificate's key, and the path leaf → cabundle → the pinned AWS Nitro root G1. This step does not
 * appraise PCRs, nonce, user data or freshness: that is the policy's job.
 */
import { backend } from '#crypto';
import { isAllZero, toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type Certificate, parseCertificate, publicKeyOf } from '../../pki/certificate.js';
import { isSimulatorAnchor, type TrustAnchor, verifyChain } from '../../pki/chain.js';
import { AWS_NITRO_ROOT_G1 } from '../../pki/embedded.js';
import { pinnedAnchor } from '../../pki/roots.js';
import type { CommonClaims, VerifiedEvidence } from '../../result.js';
import { COSE_ALG, type CoseSign1, parseCoseSign1, sigStructure } from './cose.js';
import { type NitroDocument, parseNitroDocument } from './document.js';

export interface NitroEvidence {
  readonly cose: CoseSign1;
  readonly document: NitroDocument;
}

export interface NitroCertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
}

export interface NitroClaims {
  readonly moduleId: string;
  readonly digest: 'SHA384';
  readonly timestamp: string;
  readonly timestampMs: number;
  /** PCR index → lowercase hex. */
  readonly pcrs: Readonly<Record<string, string>>;
  readonly publicKey: string | null;
  readonly userData: string | null;
  readonly nonce: string | null;
  /** Leaf first, root last. */
  readonly certificates: readonly NitroCertificateInfo[];
  readonly coseTagged: boolean;
  /** Present only on simulator evidence: the format the simulator imitated. */
  readonly simulatedPlatform?: 'nitro';
}

export interface NitroVerifyOptions {
  readonly at: Date;
  /** Replaces the pinned AWS root (e.g. to test against a mock CA). */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /** Simulator roots the caller trusts explicitly; a chain ending at one makes the platform `sim`. */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
}

/** Parses COSE_Sign1 bytes and the attestation document inside. */
export function parseNitroEvidence(bytes: Uint8Array): NitroEvidence {
  const cose = parseCoseSign1(bytes, 'cose');
  // The NSM writes an empty unprotected header; anything there would be unsigned, so it is refused.
  if (cose.unprotectedSize !== 0) {
    throw new VeriteeError(
      ErrorCode.PARSE_UNKNOWN_FIELD,
      'Nitro documents carry no unprotected header fields',
      {
        path: 'cose/unprotected',
      },
    );
  }
  return { cose, document: parseNitroDocument(cose.payload, 'cose/payload') };
}

/** AWS debug mode: PCR0, PCR1 and PCR2 are all zeros (Nitro Enclaves user guide, "Attestation"). */
export function isNitroDebug(pcrs: ReadonlyMap<number, Uint8Array>): boolean {
  return [0, 1, 2].every((index) => {
    const pcr = pcrs.get(index);
    return pcr !== undefined && isAllZero(pcr);
  });
}

async function verifyCoseSignature(evidence: NitroEvidence, leaf: Certificate): Promise<void> {
  if (evidence.cose.alg !== COSE_ALG.ES384) {
    throw new VeriteeError(
      ErrorCode.SIG_ALGORITHM_UNSUPPORTED,
      `COSE alg ${evidence.cose.alg} is not ES384 (-35)`,
      {
        path: 'cose/protected/1',
      },
    );
  }
  const key = publicKeyOf(leaf);
  if (key.type !== 'ec' || key.curve !== 'P-384') {
    throw new VeriteeError(ErrorCode.KEY_INVALID, 'Nitro signing certificate key is not ECDSA P-384', {
      path: 'cose/payload/certificate',
    });
  }
  if (evidence.cose.signature.length !== 96) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      `ES384 signature must be 96 bytes, found ${evidence.cose.signature.length}`,
      {
        path: 'cose/signature',
      },
    );
  }
  const ok = await backend.verify(
    key,
    { kind: 'ecdsa', hash: 'SHA-384', encoding: 'p1363' },
    sigStructure(evidence.cose),
    evidence.cose.signature,
  );
  if (!ok) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      'COSE signature does not verify with the signing certificate',
      { path: 'cose/signature' },
    );
  }
}

function certificateInfo(certificate: Certificate): NitroCertificateInfo {
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    sha256: certificate.fingerprint,
  };
}

function hexOrNull(bytes: Uint8Array | undefined): string | null {
  return bytes === undefined ? null : toHex(bytes);
}

/** Verifies parsed Nitro evidence at `options.at`; throws a VeriteeError on any failure. */
export async function verifyNitroEvidence(
  evidence: NitroEvidence,
  options: NitroVerifyOptions,
): Promise<VerifiedEvidence<NitroClaims>> {
  const { document } = evidence;
  const leaf = parseCertificate(document.certificate, 'cose/payload/certificate');
  if (leaf.isCa === true) {
    throw new VeriteeError(ErrorCode.CERT_KEY_USAGE, 'the signing certificate is a CA certificate', {
      path: 'cose/payload/certificate',
    });
  }
  // The NSM emits the bundle root first; the path runs leaf first.
  const bundle = document.cabundle.map((der, i) => parseCertificate(der, `cose/payload/cabundle[${i}]`));
  const path = [leaf, ...bundle.slice().reverse()];
  const vendorAnchors = options.anchors ?? [await pinnedAnchor(AWS_NITRO_ROOT_G1)];
  // Simulator roots are marked as such whatever the caller set, so they can only ever yield `sim`.
  const simulatorAnchors = (options.simulatorRoots ?? []).map((anchor) => ({
    ...anchor,
    kind: 'simulator' as const,
  }));
  const anchors = [...simulatorAnchors, ...vendorAnchors];
  const chain = await verifyChain(path, { at: options.at, anchors, path: 'chain' });
  const simulated = isSimulatorAnchor(chain.anchor);
  await verifyCoseSignature(evidence, leaf);

  const pcrs: Record<string, string> = {};
  const measurements: Record<string, string> = {};
  for (const [index, value] of [...document.pcrs.entries()].sort((a, b) => a[0] - b[0])) {
    const hex = toHex(value);
    pcrs[String(index)] = hex;
    measurements[`pcr${index}`] = hex;
  }
  const claims: CommonClaims = {
    measurements,
    debug: isNitroDebug(document.pcrs),
    userData: document.userData === undefined ? undefined : toHex(document.userData),
    publicKey: document.publicKey === undefined ? undefined : toHex(document.publicKey),
    nonce: document.nonce === undefined ? undefined : toHex(document.nonce),
    issuedAt: new Date(document.timestamp),
  };
  return {
    platform: simulated ? 'sim' : 'nitro',
    at: options.at,
    claims,
    platformClaims: {
      moduleId: document.moduleId,
      digest: document.digest,
      timestamp: new Date(document.timestamp).toISOString(),
      timestampMs: document.timestamp,
      pcrs,
      publicKey: hexOrNull(document.publicKey),
      userData: hexOrNull(document.userData),
      nonce: hexOrNull(document.nonce),
      certificates: chain.certificates.map(certificateInfo),
      coseTagged: evidence.cose.tagged,
      ...(simulated ? { simulatedPlatform: 'nitro' as const } : {}),
    },
    validUntil: chain.validUntil,
    checks: [
      {
        id: 'nitro.chain',
        ok: true,
        detail: `${chain.certificates.length} certificates to ${simulated ? 'SIMULATOR root ' : ''}${chain.anchor.name}, valid at ${options.at.toISOString()}`,
      },
      {
        id: 'nitro.signature',
        ok: true,
        detail: 'COSE_Sign1 ES384 signature verifies with the signing certificate',
      },
    ],
    warnings: [],
  };
}
