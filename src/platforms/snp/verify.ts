/**
 * SEV-SNP verification at a time `at`: the report's ECDSA P-384 signature by the VCEK/VLEK, the chain
 * VCEK → ASK → ARK or VLEK → ASVK → ARK ending at a pinned ARK of the report's product, the AMD extensions
 * of the VCEK/VLEK against the report (REPORTED_TCB, CHIP_ID, product), and AMD CRLs when given.
 *
 * The product is taken from the report's CPUID fields (version 3+) or, for version 2, from the VCEK's
 * productName; when both exist they must agree. It selects the TCB layout and the default root.
 *
 * Does not check: anything a relying party chooses (measurement, debug, TCB minimums, VMPL, report data,
 * host data, …): see `appraise.ts` and the generic appraiser. Does not fetch anything (no AMD KDS access).
 */
import { backend } from '#crypto';
import { equalBytes, toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type Certificate, publicKeyOf } from '../../pki/certificate.js';
import { type TrustAnchor, verifyChain } from '../../pki/chain.js';
import { type Crl, checkNotRevoked, verifyCrl } from '../../pki/crl.js';
import {
  AMD_GENOA_ARK,
  AMD_GENOA_ASK,
  AMD_GENOA_ASVK,
  AMD_MILAN_ARK,
  AMD_MILAN_ASK,
  AMD_MILAN_ASVK,
  AMD_TURIN_ARK,
  AMD_TURIN_ASK,
  type EmbeddedCertificate,
} from '../../pki/embedded.js';
import { loadPinnedCertificate, pinnedAnchor } from '../../pki/roots.js';
import type { Check, Issue, VerifiedEvidence } from '../../result.js';
import { type CertTableEntry, findEntry, parseCertTable } from './certtable.js';
import { asSnpCollateral, decodeCertificates, decodeCrls, type SnpCollateral } from './collateral.js';
import { REPORT_SIZE } from './layout.js';
import { parseReport, type SigningKeyKind, type SnpReport } from './report.js';
import { decodeTcb, type Product, productFromCpuid, type TcbVersion } from './tcb.js';
import { AMD_EXTENSION_OIDS, checkVekHwId, checkVekTcb, parseVekExtensions, type VekInfo } from './vcek.js';

export interface SnpVerifyOptions {
  readonly at: Date;
  /** Replace the embedded ARK for the report's product (never merged silently). */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  readonly collateral?: SnpCollateral | undefined;
}

/** Everything SNP-specific that verified, JSON-serialisable (hex strings, numbers, booleans). */
export type SnpClaims = {
  readonly product: Product;
  /** Where the product came from: the report's CPUID fields or the certificate's productName. */
  readonly productSource: 'cpuid' | 'certificate';
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: SnpReport['policy'];
  readonly familyId: string;
  readonly imageId: string;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  readonly platformInfo: SnpReport['platformInfo'];
  readonly signingKey: SigningKeyKind;
  readonly maskChipKey: boolean;
  readonly authorKeyEn: boolean;
  readonly reportData: string;
  readonly measurement: string;
  readonly hostData: string;
  readonly idKeyDigest: string;
  readonly authorKeyDigest: string;
  readonly reportId: string;
  readonly reportIdMa: string;
  readonly chipId: string;
  readonly cpuid?: SnpReport['cpuid'];
  readonly currentTcb: TcbVersion;
  readonly reportedTcb: TcbVersion;
  readonly committedTcb: TcbVersion;
  readonly launchTcb: TcbVersion;
  readonly currentFirmware: SnpReport['currentFirmware'];
  readonly committedFirmware: SnpReport['committedFirmware'];
  readonly launchMitVector?: string | undefined;
  readonly currentMitVector?: string | undefined;
  readonly endorsementKey: {
    readonly kind: SigningKeyKind;
    readonly subject: string;
    readonly issuer: string;
    readonly fingerprint: string;
    readonly productName?: string | undefined;
    readonly cspId?: string | undefined;
    readonly notBefore: string;
    readonly notAfter: string;
  };
  readonly root: string;
  readonly crlChecked: boolean;
};

export type SnpVerifiedEvidence = VerifiedEvidence<SnpClaims>;

const EMBEDDED: Readonly<
  Record<Product, { ark: EmbeddedCertificate; ask: EmbeddedCertificate; asvk?: EmbeddedCertificate }>
> = {
  Milan: { ark: AMD_MILAN_ARK, ask: AMD_MILAN_ASK, asvk: AMD_MILAN_ASVK },
  Genoa: { ark: AMD_GENOA_ARK, ask: AMD_GENOA_ASK, asvk: AMD_GENOA_ASVK },
  Turin: { ark: AMD_TURIN_ARK, ask: AMD_TURIN_ASK },
};

// doc 57230 §3: the subject CN of each endorsement key certificate.
const LEAF_COMMON_NAME: Readonly<Record<SigningKeyKind, string>> = { vcek: 'SEV-VCEK', vlek: 'SEV-VLEK' };

const P1363_SHA384 = { kind: 'ecdsa', hash: 'SHA-384', encoding: 'p1363' } as const;

// Pinned intermediates, parsed (and their fingerprints checked) once per process.
const pinnedIntermediates = new Map<string, Certificate>();

function pinnedIntermediate(embedded: EmbeddedCertificate): Certificate {
  let certificate = pinnedIntermediates.get(embedded.id);
  if (certificate === undefined) {
    certificate = loadPinnedCertificate(embedded);
    pinnedIntermediates.set(embedded.id, certificate);
  }
  return certificate;
}

/** The pinned ARK of a product as a trust anchor (pin and self-signature checked once per process). */
export function amdRootAnchor(product: Product): Promise<TrustAnchor> {
  return pinnedAnchor(EMBEDDED[product].ark);
}

function commonName(certificate: Certificate): string | undefined {
  for (const part of certificate.subject.split(', ')) {
    if (part.startsWith('CN=')) return part.slice(3);
  }
  return undefined;
}

interface Endorsements {
  readonly leaf: Certificate;
  /** Candidate intermediates and roots, in the order given. */
  readonly pool: readonly Certificate[];
  readonly crls: readonly Crl[];
}

/** Splits an extended report (report ‖ certificate table) into its parts. */
export function splitExtendedReport(bytes: Uint8Array): {
  report: Uint8Array;
  certTable: Uint8Array | undefined;
} {
  if (bytes.length <= REPORT_SIZE) return { report: bytes, certTable: undefined };
  return { report: bytes.subarray(0, REPORT_SIZE), certTable: bytes.subarray(REPORT_SIZE) };
}

function tableCertificates(entries: readonly CertTableEntry[], kind: CertTableEntry['kind']): Certificate[] {
  const entry = findEntry(entries, kind);
  return entry === undefined ? [] : decodeCertificates(entry.data, `certtable/${kind}`);
}

function gatherEndorsements(
  report: SnpReport,
  collateral: SnpCollateral,
  table: readonly CertTableEntry[],
): Endorsements {
  const pool: Certificate[] = [];
  let leaf: Certificate | undefined;
  if (collateral.vcek !== undefined) {
    const [first, ...rest] = decodeCertificates(collateral.vcek, 'collateral/vcek');
    leaf = first;
    pool.push(...rest);
  } else {
    // The table entry for the kind of key the report says signed it.
    const [first, ...rest] = tableCertificates(table, report.signer.signingKey);
    leaf = first;
    pool.push(...rest);
  }
  if (leaf === undefined) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_MISSING,
      `no ${report.signer.signingKey.toUpperCase()} certificate: pass one, or an extended report that carries it`,
      { path: 'collateral/vcek' },
    );
  }
  if (collateral.chain !== undefined) pool.push(...decodeCertificates(collateral.chain, 'collateral/chain'));
  pool.push(...tableCertificates(table, 'ask'), ...tableCertificates(table, 'ark'));
  const crls: Crl[] = [];
  if (collateral.crl !== undefined) crls.push(...decodeCrls(collateral.crl, 'collateral/crl'));
  const tableCrl = findEntry(table, 'crl');
  if (tableCrl !== undefined) crls.push(...decodeCrls(tableCrl.data, 'certtable/crl'));
  return { leaf, pool, crls };
}

/** Picks the product from the report's CPUID and the certificate's productName; they must agree. */
function resolveProduct(
  report: SnpReport,
  vek: VekInfo,
): { product: Product; source: 'cpuid' | 'certificate' } {
  const fromCpuid = report.cpuid === undefined ? undefined : productFromCpuid(report.cpuid);
  if (fromCpuid !== undefined && vek.product !== undefined && fromCpuid !== vek.product) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_MISMATCH,
      `report is from a ${fromCpuid} CPU but the certificate is for ${vek.product}`,
      { path: 'collateral/vcek/productName', details: `productName "${vek.productName}"` },
    );
  }
  if (fromCpuid !== undefined) return { product: fromCpuid, source: 'cpuid' };
  if (vek.product !== undefined) return { product: vek.product, source: 'certificate' };
  throw new VeriteeError(
    ErrorCode.UNSUPPORTED,
    'cannot tell the AMD product: a version 2 report has no CPUID and the certificate names no product',
    { path: 'collateral/vcek/productName' },
  );
}

/**
 * The intermediate that issued `leaf`. When the caller supplied chain certificates (or the extended report
 * carried some), it must be among them: no silent fall back to another certificate. Only when nothing was
 * supplied is the pinned ASK/ASVK of the product used.
 */
function findIntermediate(
  leaf: Certificate,
  pool: readonly Certificate[],
  product: Product,
  kind: SigningKeyKind,
): Certificate {
  if (pool.length > 0) {
    const given = pool.find((candidate) => equalBytes(candidate.subjectDer, leaf.issuerDer));
    if (given !== undefined) return given;
    throw new VeriteeError(
      ErrorCode.CHAIN_BROKEN,
      `the supplied chain does not contain the issuer of the ${kind.toUpperCase()}`,
      {
        path: 'collateral/chain',
        details: `issuer "${leaf.issuer}"; supplied: ${pool.map((c) => `"${c.subject}"`).join(', ')}`,
      },
    );
  }
  const embedded = kind === 'vcek' ? EMBEDDED[product].ask : EMBEDDED[product].asvk;
  if (embedded === undefined) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_MISSING,
      `no ${product} ASVK is embedded: pass the VLEK's chain (--chain)`,
      { path: 'collateral/chain' },
    );
  }
  const pinned = pinnedIntermediate(embedded);
  if (!equalBytes(pinned.subjectDer, leaf.issuerDer)) {
    throw new VeriteeError(
      ErrorCode.CHAIN_BROKEN,
      `${kind.toUpperCase()} was not issued by the ${product} ${kind === 'vcek' ? 'ASK' : 'ASVK'}`,
      { path: 'collateral/vcek', details: `issuer "${leaf.issuer}", expected "${pinned.subject}"` },
    );
  }
  return pinned;
}

/** The anchor that issued `intermediate`. A root the caller supplied must be that very anchor. */
function findRoot(
  intermediate: Certificate,
  pool: readonly Certificate[],
  anchors: readonly TrustAnchor[],
): TrustAnchor {
  const anchor = anchors.find((a) => equalBytes(a.certificate.subjectDer, intermediate.issuerDer));
  const suppliedRoots = pool.filter(
    (candidate) =>
      equalBytes(candidate.subjectDer, intermediate.issuerDer) &&
      equalBytes(candidate.subjectDer, candidate.issuerDer),
  );
  for (const supplied of suppliedRoots) {
    if (anchor === undefined || supplied.fingerprint !== anchor.certificate.fingerprint) {
      throw new VeriteeError(
        ErrorCode.CHAIN_UNTRUSTED_ROOT,
        `the supplied root "${supplied.subject}" is not a trusted AMD root`,
        {
          path: 'collateral/chain',
          details: `fingerprint ${supplied.fingerprint}; trusted: ${anchors.map((a) => a.name).join(', ') || 'none'}`,
        },
      );
    }
  }
  if (anchor === undefined) {
    throw new VeriteeError(
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
      `"${intermediate.subject}" was not issued by a trusted AMD root`,
      {
        path: 'collateral/chain',
        details: `issuer "${intermediate.issuer}"; trusted: ${anchors.map((a) => a.name).join(', ') || 'none'}`,
      },
    );
  }
  return anchor;
}

function checkLeafShape(leaf: Certificate, vek: VekInfo, report: SnpReport): void {
  if (vek.kind !== report.signer.signingKey) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_MISMATCH,
      `report was signed by a ${report.signer.signingKey.toUpperCase()} but the certificate is a ${vek.kind.toUpperCase()}`,
      { path: 'collateral/vcek' },
    );
  }
  const cn = commonName(leaf);
  if (cn !== LEAF_COMMON_NAME[vek.kind]) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_INVALID,
      `${vek.kind.toUpperCase()} certificate subject must be CN=${LEAF_COMMON_NAME[vek.kind]}`,
      { path: 'collateral/vcek', details: `subject "${leaf.subject}"` },
    );
  }
  const key = publicKeyOf(leaf);
  if (key.type !== 'ec' || key.curve !== 'P-384') {
    throw new VeriteeError(ErrorCode.KEY_INVALID, `${vek.kind.toUpperCase()} key is not an ECDSA P-384 key`, {
      path: 'collateral/vcek',
    });
  }
}

async function checkRevocation(
  crls: readonly Crl[],
  chain: readonly [Certificate, Certificate, Certificate],
  at: Date,
): Promise<Date | undefined> {
  const [leaf, intermediate, root] = chain;
  let earliest: Date | undefined;
  for (const [index, crl] of crls.entries()) {
    const path = `collateral/crl[${index}]`;
    let issuer: Certificate;
    let covered: Certificate;
    if (equalBytes(crl.issuerDer, root.subjectDer)) [issuer, covered] = [root, intermediate];
    else if (equalBytes(crl.issuerDer, intermediate.subjectDer)) [issuer, covered] = [intermediate, leaf];
    else {
      throw new VeriteeError(ErrorCode.CRL_ISSUER_MISMATCH, `CRL of "${crl.issuer}" is not for this chain`, {
        path,
      });
    }
    const nextUpdate = await verifyCrl(crl, issuer, { at, path });
    checkNotRevoked(covered, crl, path);
    if (nextUpdate !== undefined && (earliest === undefined || nextUpdate < earliest)) earliest = nextUpdate;
  }
  return earliest;
}

/** Verifies a parsed report with its endorsements. `certTable` is the extended report's table, if any. */
export async function verifySnpReport(
  report: SnpReport,
  options: SnpVerifyOptions,
  certTable?: Uint8Array,
): Promise<SnpVerifiedEvidence> {
  const at = options.at;
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'verification time must be a valid Date', {
      path: 'at',
    });
  }
  const collateral = asSnpCollateral(options.collateral);
  const tableBytes = certTable ?? collateral.certTable;
  const table = tableBytes === undefined ? [] : parseCertTable(tableBytes);
  const { leaf, pool, crls } = gatherEndorsements(report, collateral, table);
  const vek = parseVekExtensions(leaf, 'collateral/vcek');
  checkLeafShape(leaf, vek, report);
  const { product, source } = resolveProduct(report, vek);

  const anchors = options.anchors ?? [await amdRootAnchor(product)];
  const intermediate = findIntermediate(leaf, pool, product, vek.kind);
  const root = findRoot(intermediate, pool, anchors);
  const chain = await verifyChain([leaf, intermediate, root.certificate], {
    at,
    anchors,
    maxLength: 3,
    knownCriticalExtensions: AMD_EXTENSION_OIDS,
    path: 'chain',
  });
  const checks: Check[] = [
    {
      id: 'snp.chain',
      ok: true,
      detail: `${commonName(leaf)} ← ${commonName(intermediate)} ← ${root.name}`,
    },
  ];

  const tcb = {
    current: decodeTcb(report.currentTcb, product, 'report/current_tcb'),
    reported: decodeTcb(report.reportedTcb, product, 'report/reported_tcb'),
    committed: decodeTcb(report.committedTcb, product, 'report/committed_tcb'),
    launch: decodeTcb(report.launchTcb, product, 'report/launch_tcb'),
  };
  checkVekTcb(vek, tcb.reported, 'collateral/vcek');
  checks.push({
    id: 'snp.vek.tcb',
    ok: true,
    detail: `certificate TCB equals REPORTED_TCB ${tcb.reported.raw}`,
  });
  if (vek.kind === 'vcek') {
    checkVekHwId(vek, report.chipId, product, 'collateral/vcek/hwID');
    checks.push({ id: 'snp.vek.hwid', ok: true, detail: 'VCEK hwID equals CHIP_ID' });
  }

  const signatureOk = await backend.verify(
    publicKeyOf(leaf),
    P1363_SHA384,
    report.signedBytes,
    report.signature,
  );
  if (!signatureOk) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      `report signature does not verify with the ${vek.kind.toUpperCase()} key`,
      { path: 'report/signature' },
    );
  }
  checks.push({
    id: 'snp.report.signature',
    ok: true,
    detail: `ECDSA P-384/SHA-384 by ${vek.kind.toUpperCase()}`,
  });

  const warnings: Issue[] = [];
  let validUntil = chain.validUntil;
  if (crls.length > 0) {
    const crlUntil = await checkRevocation(crls, [leaf, intermediate, root.certificate], at);
    if (crlUntil !== undefined && crlUntil < validUntil) validUntil = crlUntil;
    checks.push({ id: 'snp.crl', ok: true, detail: `${crls.length} AMD CRL(s) checked; nothing revoked` });
  } else {
    warnings.push({
      code: ErrorCode.COLLATERAL_MISSING,
      message: 'no AMD CRL given: revocation of the ASK/ASVK was not checked',
    });
  }

  const platformClaims: SnpClaims = {
    product,
    productSource: source,
    version: report.version,
    guestSvn: report.guestSvn,
    policy: report.policy,
    familyId: toHex(report.familyId),
    imageId: toHex(report.imageId),
    vmpl: report.vmpl,
    signatureAlgo: report.signatureAlgo,
    platformInfo: report.platformInfo,
    signingKey: report.signer.signingKey,
    maskChipKey: report.signer.maskChipKey,
    authorKeyEn: report.signer.authorKeyEn,
    reportData: toHex(report.reportData),
    measurement: toHex(report.measurement),
    hostData: toHex(report.hostData),
    idKeyDigest: toHex(report.idKeyDigest),
    authorKeyDigest: toHex(report.authorKeyDigest),
    reportId: toHex(report.reportId),
    reportIdMa: toHex(report.reportIdMa),
    chipId: toHex(report.chipId),
    ...(report.cpuid === undefined ? {} : { cpuid: report.cpuid }),
    currentTcb: tcb.current,
    reportedTcb: tcb.reported,
    committedTcb: tcb.committed,
    launchTcb: tcb.launch,
    currentFirmware: report.currentFirmware,
    committedFirmware: report.committedFirmware,
    ...(report.launchMitVector === undefined
      ? {}
      : { launchMitVector: report.launchMitVector, currentMitVector: report.currentMitVector }),
    endorsementKey: {
      kind: vek.kind,
      subject: leaf.subject,
      issuer: leaf.issuer,
      fingerprint: leaf.fingerprint,
      productName: vek.productName,
      cspId: vek.cspId,
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
    },
    root: root.name,
    crlChecked: crls.length > 0,
  };
  return {
    platform: 'sev-snp',
    at,
    claims: {
      measurements: { measurement: platformClaims.measurement },
      debug: report.policy.debug,
      reportData: platformClaims.reportData,
    },
    platformClaims,
    validUntil,
    checks,
    warnings,
  };
}

/**
 * Parses and verifies raw evidence: a 1184-byte report, or an extended report (the report followed by its
 * certificate table).
 */
export async function verifySnpBytes(
  bytes: Uint8Array,
  options: SnpVerifyOptions,
): Promise<SnpVerifiedEvidence> {
  if (!(bytes instanceof Uint8Array)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'evidence must be a Uint8Array', { path: 'report' });
  }
  const { report, certTable } = splitExtendedReport(bytes);
  const collateral = asSnpCollateral(options.collateral);
  if (certTable !== undefined && collateral.certTable !== undefined) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      'the report carries a certificate table and another was passed as collateral',
      { path: 'collateral/certTable' },
    );
  }
  return verifySnpReport(parseReport(report), options, certTable);
}
