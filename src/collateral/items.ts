/**
 * Building and verifying single collateral items. Every item is verified on its own before it may enter a
 * store — signature, issuer chain to the pinned (or given) root, role names, that it describes what its key
 * says (TCB Info id and FMSPC, QE Identity id, PCK CRL issuer CA, VCEK hwID and TCB, AMD product) — at a
 * time `at` that must lie in the item's own validity window (`verifyItem`), or, for bundle import,
 * anywhere in it (`verifyItemAuthentic`: the verifier re-checks currency at its own `at` on every use).
 *
 * Does not check: revocation of the TCB Signing / PCK CA certificates by the Root CA CRL, nor that a set of
 * items agrees with a quote — `verifyDcapQuote` / `verifySnpBytes` re-check everything on every use.
 */
import { backend } from '#crypto';
import { fromHex, toHex, utf8Decode, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import {
  type Certificate,
  type Crl,
  INTEL_SGX_ROOT_CA,
  parseCertificate,
  parseCrl,
  parsePemCertificates,
  pemToDer,
  pinnedAnchor,
  publicKeyOf,
  type TrustAnchor,
  verifyChain,
  verifyCrl,
} from '../pki/index.js';
import { parseQeIdentity, parseTcbInfo } from '../platforms/dcap/collateral.js';
import { parseJson, topLevelMembers } from '../platforms/dcap/json.js';
import { expectCommonName, IntelName } from '../platforms/dcap/pck.js';
import { decodeCertificates } from '../platforms/snp/collateral.js';
import { PRODUCTS, type Product } from '../platforms/snp/tcb.js';
import { AMD_EXTENSION_OIDS, parseVekExtensions } from '../platforms/snp/vcek.js';
import { amdRootAnchor } from '../platforms/snp/verify.js';
import type { CollateralItem, CollateralKind } from './types.js';

export interface ItemVerifyOptions {
  /** Replace the embedded Intel SGX Root CA / AMD ARKs (never merged). */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /** For `amd.vcek`: the product's chain item (ASK/ASVK + ARK PEM or DER). */
  readonly amdChain?: Uint8Array | undefined;
}

const P256_P1363 = { kind: 'ecdsa', hash: 'SHA-256', encoding: 'p1363' } as const;

function invalid(message: string, path: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_INVALID, message, { path, details });
}

export function contentHashOf(body: Uint8Array, issuerChain: string | undefined): string {
  const chain = utf8Encode(issuerChain ?? '');
  const data = new Uint8Array(body.length + 1 + chain.length);
  data.set(body, 0);
  data.set(chain, body.length + 1);
  return toHex(backend.hash('SHA-256', data));
}

/** CRL bytes as DER, PEM or hex text (PCCS serves the Root CA CRL as hex). */
export function crlDer(body: Uint8Array, path: string): Uint8Array {
  const head = body.subarray(0, 16);
  let ascii = true;
  for (const byte of head) if (byte < 0x09 || byte > 0x7e) ascii = false;
  if (!ascii || body.length === 0) return body;
  const text = utf8Decode(body, path).trim();
  if (text.startsWith('-----BEGIN')) {
    const ders = pemToDer(text, 'X509 CRL');
    if (ders.length !== 1) throw invalid('expected one PEM CRL', path);
    return ders[0]!;
  }
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return fromHex(text, path);
  return body;
}

/** Issuer-chain header as PEM (PCS sends it URL-encoded). */
export function issuerChainPem(header: string | null, path: string): string {
  if (header === null || header.length === 0) {
    throw new VeriteeError(ErrorCode.COLLATERAL_MISSING, 'response lacks its issuer-chain header', { path });
  }
  if (!header.includes('%')) return header;
  try {
    return decodeURIComponent(header);
  } catch {
    throw invalid('issuer-chain header is neither PEM nor URL-encoded PEM', path);
  }
}

async function intelAnchors(options: ItemVerifyOptions): Promise<readonly TrustAnchor[]> {
  return options.anchors ?? [await pinnedAnchor(INTEL_SGX_ROOT_CA)];
}

function chainOf(pem: string | undefined, path: string): Certificate[] {
  if (pem === undefined) throw new VeriteeError(ErrorCode.COLLATERAL_MISSING, 'no issuer chain', { path });
  const chain = parsePemCertificates(pem, path);
  if (chain.length !== 2) throw invalid(`issuer chain must hold 2 certificates, found ${chain.length}`, path);
  return chain;
}

interface Window {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

type TimeChoice = (window: Window) => Date;

/** Requires `at` inside the window. */
function exactly(at: Date, what: string, path: string): TimeChoice {
  return (window) => {
    if (at < window.notBefore) {
      throw new VeriteeError(ErrorCode.COLLATERAL_NOT_YET_VALID, `${what} is not valid yet`, {
        path,
        details: `valid from ${window.notBefore.toISOString()}, checked at ${at.toISOString()}`,
      });
    }
    if (at > window.notAfter) {
      throw new VeriteeError(ErrorCode.COLLATERAL_EXPIRED, `${what} is stale`, {
        path,
        details: `nextUpdate ${window.notAfter.toISOString()}, checked at ${at.toISOString()}`,
      });
    }
    return at;
  };
}

/** Any instant in the window: `at` clamped into it. */
function within(at: Date): TimeChoice {
  return (window) =>
    new Date(Math.min(Math.max(at.getTime(), window.notBefore.getTime()), window.notAfter.getTime()));
}

interface Checked extends Window {}

async function checkIntelJson(
  kind: 'intel.tcbInfo' | 'intel.qeIdentity',
  key: string,
  body: Uint8Array,
  issuerChain: string | undefined,
  time: TimeChoice,
  options: ItemVerifyOptions,
): Promise<Checked> {
  const path = `${kind}/${key}`;
  const text = utf8Decode(body, path);
  const bodyKey = kind === 'intel.tcbInfo' ? 'tcbInfo' : 'enclaveIdentity';
  const members = topLevelMembers(text, path);
  const signed = members.get(bodyKey);
  const signatureJson = members.get('signature');
  if (signed === undefined || signatureJson === undefined || members.size !== 2) {
    throw invalid(`expected exactly {"${bodyKey}":…,"signature":…}`, path);
  }
  const signatureHex = parseJson(signatureJson, `${path}/signature`);
  if (typeof signatureHex !== 'string' || !/^[0-9a-fA-F]{128}$/.test(signatureHex)) {
    throw invalid('signature must be 64 bytes of hex', `${path}/signature`);
  }
  const parts = key.split('/');
  let window: Window;
  if (kind === 'intel.tcbInfo') {
    const info = parseTcbInfo(signed, `${path}/tcbInfo`);
    const [tee, fmspc] = parts;
    if (info.id.toLowerCase() !== tee || toHex(info.fmspc) !== fmspc) {
      throw new VeriteeError(ErrorCode.COLLATERAL_MISMATCH, 'TCB Info does not describe what was asked', {
        path,
        details: `got ${info.id} FMSPC ${toHex(info.fmspc)}`,
      });
    }
    window = { notBefore: info.issueDate, notAfter: info.nextUpdate };
  } else {
    const identity = parseQeIdentity(signed, `${path}/enclaveIdentity`);
    const expected = parts[0] === 'tdx' ? 'TD_QE' : 'QE';
    if (identity.id !== expected) {
      throw new VeriteeError(
        ErrorCode.COLLATERAL_MISMATCH,
        `enclave identity is ${identity.id}, not ${expected}`,
        {
          path,
        },
      );
    }
    window = { notBefore: identity.issueDate, notAfter: identity.nextUpdate };
  }
  const at = time(window);
  const chain = chainOf(issuerChain, `${path}/issuerChain`);
  expectCommonName(chain[0]!, [IntelName.tcbSigning], `${path}/issuerChain[0]`);
  await verifyChain(chain, {
    at,
    anchors: await intelAnchors(options),
    maxLength: 2,
    path: `${path}/issuerChain`,
  });
  const ok = await backend.verify(
    publicKeyOf(chain[0]!),
    P256_P1363,
    utf8Encode(signed),
    fromHex(signatureHex),
  );
  if (!ok) {
    throw new VeriteeError(ErrorCode.SIG_INVALID, `${bodyKey} signature does not verify`, {
      path: `${path}/signature`,
    });
  }
  return window;
}

async function checkIntelCrl(
  kind: 'intel.pckCrl' | 'intel.rootCaCrl',
  key: string,
  body: Uint8Array,
  issuerChain: string | undefined,
  time: TimeChoice,
  options: ItemVerifyOptions,
): Promise<Checked> {
  const path = `${kind}/${key}`;
  const crl = parseCrl(crlDer(body, path), path);
  const window = crlWindow(crl, path);
  const at = time(window);
  const anchors = await intelAnchors(options);
  let issuer: Certificate;
  if (kind === 'intel.pckCrl') {
    if (key !== 'platform' && key !== 'processor')
      throw invalid('PCK CRL key must be platform or processor', path);
    const chain = chainOf(issuerChain, `${path}/issuerChain`);
    expectCommonName(
      chain[0]!,
      [key === 'platform' ? IntelName.pckPlatformCa : IntelName.pckProcessorCa],
      `${path}/issuerChain[0]`,
    );
    await verifyChain(chain, { at, anchors, maxLength: 2, path: `${path}/issuerChain` });
    issuer = chain[0]!;
  } else {
    if (key !== 'root') throw invalid('Root CA CRL key must be root', path);
    issuer = anchors[0]!.certificate;
    const match = anchors.find((anchor) => anchor.certificate.subject === crl.issuer);
    if (match !== undefined) issuer = match.certificate;
  }
  await verifyCrl(crl, issuer, { at, path });
  return window;
}

function crlWindow(crl: Crl, path: string): Window {
  if (crl.nextUpdate === undefined)
    throw new VeriteeError(ErrorCode.CRL_INVALID, 'CRL has no nextUpdate', { path });
  return { notBefore: crl.thisUpdate, notAfter: crl.nextUpdate };
}

function productOf(text: string | undefined, path: string): Product {
  const product = PRODUCTS.find((name) => name === text);
  if (product === undefined) throw invalid(`unknown AMD product "${String(text).slice(0, 20)}"`, path);
  return product;
}

async function amdChainCertificates(
  product: Product,
  body: Uint8Array,
  time: TimeChoice,
  options: ItemVerifyOptions,
  path: string,
): Promise<{
  intermediate: Certificate;
  root: Certificate;
  window: Window;
  anchors: readonly TrustAnchor[];
}> {
  const certificates = decodeCertificates(body, path);
  if (certificates.length !== 2)
    throw invalid(`AMD chain must hold 2 certificates, found ${certificates.length}`, path);
  const [intermediate, root] = certificates as [Certificate, Certificate];
  const window = {
    notBefore: new Date(Math.max(intermediate.notBefore.getTime(), root.notBefore.getTime())),
    notAfter: new Date(Math.min(intermediate.notAfter.getTime(), root.notAfter.getTime())),
  };
  const anchors = options.anchors ?? [await amdRootAnchor(product)];
  await verifyChain([intermediate, root], {
    at: time(window),
    anchors,
    maxLength: 2,
    knownCriticalExtensions: AMD_EXTENSION_OIDS,
    path,
  });
  return { intermediate, root, window, anchors };
}

async function checkAmd(
  kind: 'amd.vcek' | 'amd.chain' | 'amd.crl',
  key: string,
  body: Uint8Array,
  time: TimeChoice,
  options: ItemVerifyOptions,
): Promise<Checked> {
  const path = `${kind}/${key}`;
  const parts = key.split('/');
  const product = productOf(parts[0], path);
  if (kind === 'amd.chain') {
    if (parts[1] !== 'vcek' && parts[1] !== 'vlek')
      throw invalid('AMD chain key must end in vcek or vlek', path);
    return (await amdChainCertificates(product, body, time, options, path)).window;
  }
  if (kind === 'amd.crl') {
    const crl = parseCrl(crlDer(body, path), path);
    const window = crlWindow(crl, path);
    const anchors = options.anchors ?? [await amdRootAnchor(product)];
    await verifyCrl(crl, anchors[0]!.certificate, { at: time(window), path });
    return window;
  }
  if (options.amdChain === undefined) {
    throw new VeriteeError(ErrorCode.COLLATERAL_MISSING, 'a VCEK is verified with its product chain', {
      path,
    });
  }
  const vcek = parseCertificate(body, path);
  const vek = parseVekExtensions(vcek, path);
  if (vek.kind !== 'vcek' || vek.hwId === undefined) throw invalid('not a VCEK (no hwID)', path);
  const [, hwId, tcb] = parts;
  if (toHex(vek.hwId) !== hwId) {
    throw new VeriteeError(ErrorCode.COLLATERAL_MISMATCH, 'VCEK hwID differs from the one asked for', {
      path,
    });
  }
  if (tcbKey(product, vek.tcb) !== tcb) {
    throw new VeriteeError(ErrorCode.COLLATERAL_MISMATCH, 'VCEK TCB differs from the one asked for', {
      path,
      details: `certificate ${tcbKey(product, vek.tcb)}, asked ${tcb}`,
    });
  }
  const window = { notBefore: vcek.notBefore, notAfter: vcek.notAfter };
  const at = time(window);
  const { intermediate, root, anchors } = await amdChainCertificates(
    product,
    options.amdChain,
    within(at),
    options,
    `${path}/chain`,
  );
  await verifyChain([vcek, intermediate, root], {
    at,
    anchors,
    maxLength: 3,
    knownCriticalExtensions: AMD_EXTENSION_OIDS,
    path,
  });
  return window;
}

/** The TCB part of an `amd.vcek` key: the report's 8 TCB_VERSION bytes as hex, rebuilt from SPL values. */
export function tcbKey(
  product: Product,
  tcb: { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number | undefined },
): string {
  const raw = new Uint8Array(8);
  if (product === 'Turin') {
    raw[0] = tcb.fmc ?? 0;
    raw[1] = tcb.bootloader;
    raw[2] = tcb.tee;
    raw[3] = tcb.snp;
  } else {
    raw[0] = tcb.bootloader;
    raw[1] = tcb.tee;
    raw[6] = tcb.snp;
  }
  raw[7] = tcb.microcode;
  return toHex(raw);
}

async function check(
  kind: CollateralKind,
  key: string,
  body: Uint8Array,
  issuerChain: string | undefined,
  time: TimeChoice,
  options: ItemVerifyOptions,
): Promise<Checked> {
  switch (kind) {
    case 'intel.tcbInfo':
    case 'intel.qeIdentity':
      return checkIntelJson(kind, key, body, issuerChain, time, options);
    case 'intel.pckCrl':
    case 'intel.rootCaCrl':
      return checkIntelCrl(kind, key, body, issuerChain, time, options);
    default:
      return checkAmd(kind, key, body, time, options);
  }
}

export interface RawItem {
  readonly kind: CollateralKind;
  readonly key: string;
  readonly body: Uint8Array;
  readonly issuerChain?: string | undefined;
  readonly source: string;
  readonly fetchedAt: Date;
}

function wrap(error: unknown, path: string): VeriteeError {
  if (error instanceof VeriteeError) return error;
  return new VeriteeError(ErrorCode.COLLATERAL_INVALID, 'collateral item could not be verified', {
    path,
    details: error instanceof Error ? error.message.slice(0, 160) : undefined,
  });
}

/** Verifies an item valid at `at` (fetched collateral) and returns it ready for a store. */
export async function verifyItem(
  raw: RawItem,
  at: Date,
  options: ItemVerifyOptions = {},
): Promise<CollateralItem> {
  const path = `${raw.kind}/${raw.key}`;
  try {
    const window = await check(
      raw.kind,
      raw.key,
      raw.body,
      raw.issuerChain,
      exactly(at, path, path),
      options,
    );
    return finish(raw, window);
  } catch (error) {
    throw wrap(error, path);
  }
}

/**
 * Verifies an item's authenticity at some instant of its own validity window (`at` clamped into it): for
 * bundle import, where the items may be for a past or future verification time.
 */
export async function verifyItemAuthentic(
  raw: RawItem,
  at: Date,
  options: ItemVerifyOptions = {},
): Promise<CollateralItem> {
  const path = `${raw.kind}/${raw.key}`;
  try {
    const window = await check(raw.kind, raw.key, raw.body, raw.issuerChain, within(at), options);
    return finish(raw, window);
  } catch (error) {
    throw wrap(error, path);
  }
}

function finish(raw: RawItem, window: Window): CollateralItem {
  return {
    kind: raw.kind,
    key: raw.key,
    body: raw.body,
    issuerChain: raw.issuerChain,
    contentHash: contentHashOf(raw.body, raw.issuerChain),
    notBefore: window.notBefore,
    notAfter: window.notAfter,
    fetchedAt: raw.fetchedAt,
    source: raw.source,
  };
}

/**
 * How new a verified item is, compared as a pair: Intel TCB Info and QE Identity by their
 * `tcbEvaluationDataNumber`, then their issue date; every other kind (CRLs, certificates, chains) by the
 * start of its validity (thisUpdate / notBefore) alone. Used to refuse a rollback: a service serving an
 * item older than one already stored.
 */
export function freshness(item: CollateralItem): readonly [number, number] {
  const issued = item.notBefore.getTime();
  if (item.kind !== 'intel.tcbInfo' && item.kind !== 'intel.qeIdentity') return [0, issued];
  const path = `${item.kind}/${item.key}`;
  const members = topLevelMembers(utf8Decode(item.body, path), path);
  const signed = item.kind === 'intel.tcbInfo' ? members.get('tcbInfo') : members.get('enclaveIdentity');
  if (signed === undefined) throw invalid('item lost its signed body', path);
  const parsed =
    item.kind === 'intel.tcbInfo'
      ? parseTcbInfo(signed, `${path}/tcbInfo`)
      : parseQeIdentity(signed, `${path}/enclaveIdentity`);
  return [parsed.tcbEvaluationDataNumber, issued];
}
