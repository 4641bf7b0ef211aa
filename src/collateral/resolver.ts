/**
 * The collateral resolver: given evidence and a verification time, returns the endorsements its platform
 * needs — from the store when it holds a version valid at `at`, otherwise fetched from Intel PCS / AMD KDS,
 * verified (`verifyItem`) and stored, then returned. Nothing unverified is stored or returned from a fetch;
 * what comes from a store is re-verified by the platform verifier on every use anyway.
 *
 * Offline (`offline: true`, or no provider configured) it never touches the network: a missing item is
 * `COLLATERAL_UNAVAILABLE`; a stale one is handed on so that the verifier reports exactly what expired.
 *
 * `verify(bytes, { collateralSource: resolver })` uses it; `resolve()` may also be called directly.
 */

import { backend } from '#crypto';
import { toHex } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { parsePemCertificates } from '../pki/certificate.js';
import type { TrustAnchor } from '../pki/chain.js';
import { PCS_FILES, parseDcapCollateral } from '../platforms/dcap/collateral.js';
import { looksLikeQuote } from '../platforms/dcap/header.js';
import { commonNameOf, IntelName, parsePckExtension } from '../platforms/dcap/pck.js';
import { parseQuote } from '../platforms/dcap/quote.js';
import { parseCertTable } from '../platforms/snp/certtable.js';
import { looksLikeReport } from '../platforms/snp/layout.js';
import { parseReport } from '../platforms/snp/report.js';
import { decodeTcb, PRODUCTS, type Product, productFromCpuid } from '../platforms/snp/tcb.js';
import { splitExtendedReport } from '../platforms/snp/verify.js';
import { crlDer, type RawItem, tcbKey, verifyItem } from './items.js';
import type { KdsProvider, PcsProvider, TcbUpdate, Tee } from './providers.js';
import { type CollateralItem, type CollateralKind, type CollateralStore, pickValid } from './types.js';

export interface ResolverEvent {
  readonly type: 'hit' | 'stale' | 'fetch' | 'stored' | 'rejected';
  readonly kind: CollateralKind;
  readonly key: string;
  readonly detail?: string | undefined;
}

export interface CollateralResolverOptions {
  readonly store: CollateralStore;
  readonly pcs?: PcsProvider | undefined;
  readonly kds?: KdsProvider | undefined;
  /** Never fetch: store only. */
  readonly offline?: boolean | undefined;
  /** Intel TCB evaluation data: `standard` (default) or `early`. Overrides the PCS provider's choice. */
  readonly update?: TcbUpdate | undefined;
  /** Replace the embedded vendor roots when verifying fetched items. */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /** SEV-SNP v2 reports do not name their product: which to try (default Milan, Genoa, Turin). */
  readonly snpProducts?: readonly Product[] | undefined;
  readonly onEvent?: ((event: ResolverEvent) => void) | undefined;
}

/** What `resolve` needs to know about evidence: the collateral items, by platform. */
export type CollateralNeeds =
  | { readonly platform: 'none' }
  | {
      readonly platform: 'dcap';
      readonly tee: Tee;
      readonly fmspc: Uint8Array;
      readonly ca: 'platform' | 'processor';
    }
  | {
      readonly platform: 'snp';
      readonly products: readonly Product[];
      readonly chipId: Uint8Array;
      readonly reportedTcb: Uint8Array;
      readonly signingKey: 'vcek' | 'vlek';
      readonly hasCertTable: boolean;
      readonly tableHasVek: boolean;
    };

/** Reads what collateral the evidence needs (parses; verifies nothing). */
export function collateralNeeds(bytes: Uint8Array, snpProducts?: readonly Product[]): CollateralNeeds {
  if (looksLikeQuote(bytes)) {
    const quote = parseQuote(bytes);
    const chain = parsePemCertificates(quote.qe.pckChainPem, 'quote/pckChain');
    const pck = chain[0];
    if (pck === undefined) {
      throw new VeriteeError(ErrorCode.COLLATERAL_MISSING, 'quote carries no PCK certificate', {
        path: 'quote/pckChain',
      });
    }
    const extension = parsePckExtension(pck, 'quote/pckChain[0]');
    const issuer = chain[1] === undefined ? '' : commonNameOf(chain[1], 'quote/pckChain[1]');
    return {
      platform: 'dcap',
      tee: quote.header.teeType,
      fmspc: extension.fmspc,
      ca: issuer === IntelName.pckProcessorCa ? 'processor' : 'platform',
    };
  }
  if (looksLikeReport(bytes)) {
    const { report: reportBytes, certTable } = splitExtendedReport(bytes);
    const report = parseReport(reportBytes);
    const products =
      report.cpuid === undefined
        ? (snpProducts ?? PRODUCTS)
        : [productFromCpuid(report.cpuid, 'report/cpuid')];
    const table = certTable === undefined ? [] : parseCertTable(certTable);
    return {
      platform: 'snp',
      products,
      chipId: report.chipId,
      reportedTcb: report.reportedTcb,
      signingKey: report.signer.signingKey,
      hasCertTable: certTable !== undefined,
      tableHasVek: table.some((entry) => entry.kind === 'vcek' || entry.kind === 'vlek'),
    };
  }
  return { platform: 'none' };
}

const MEMO_LIMIT = 256;

export class CollateralResolver {
  private readonly memo = new Map<string, unknown>();
  private readonly needsMemo = new Map<string, CollateralNeeds>();
  private readonly inflight = new Map<string, Promise<CollateralItem>>();

  constructor(readonly options: CollateralResolverOptions) {}

  private get update(): TcbUpdate {
    return this.options.update ?? this.options.pcs?.update ?? 'standard';
  }

  private emit(event: ResolverEvent): void {
    this.options.onEvent?.(event);
  }

  /**
   * One item: the store's version valid at `at`, else a fetched and verified one (stored), else — offline —
   * the store's newest (stale) version, else COLLATERAL_UNAVAILABLE.
   */
  async item(
    kind: CollateralKind,
    key: string,
    at: Date,
    fetch: (() => Promise<RawItem>) | undefined,
    extra: { amdChain?: Uint8Array; versions?: readonly CollateralItem[] } = {},
  ): Promise<CollateralItem> {
    const versions = extra.versions ?? (await this.options.store.versions(kind, key));
    const valid = pickValid(versions, at);
    if (valid !== undefined) {
      this.emit({ type: 'hit', kind, key });
      return valid;
    }
    if (this.options.offline === true || fetch === undefined) {
      const newest = versions[0];
      if (newest !== undefined) {
        this.emit({
          type: 'stale',
          kind,
          key,
          detail: `valid ${newest.notBefore.toISOString()}..${newest.notAfter.toISOString()}`,
        });
        return newest;
      }
      throw new VeriteeError(ErrorCode.COLLATERAL_UNAVAILABLE, `no ${kind} in the store`, {
        path: `${kind}/${key}`,
        details:
          this.options.offline === true ? 'offline: nothing is fetched' : 'no collateral service configured',
      });
    }
    const flightKey = `${kind} ${key} ${at.getTime()}`;
    let pending = this.inflight.get(flightKey);
    if (pending === undefined) {
      pending = (async () => {
        this.emit({ type: 'fetch', kind, key });
        const raw = await fetch();
        let item: CollateralItem;
        try {
          item = await verifyItem(raw, at, { anchors: this.options.anchors, amdChain: extra.amdChain });
        } catch (error) {
          this.emit({
            type: 'rejected',
            kind,
            key,
            detail: error instanceof Error ? error.message : undefined,
          });
          throw error;
        }
        await this.options.store.put(item);
        this.emit({ type: 'stored', kind, key, detail: item.contentHash });
        return item;
      })();
      this.inflight.set(flightKey, pending);
      pending.finally(() => this.inflight.delete(flightKey)).catch(() => undefined);
    }
    return pending;
  }

  private remember(hashes: readonly string[], build: () => unknown): unknown {
    const memoKey = hashes.join(',');
    let value = this.memo.get(memoKey);
    if (value === undefined) {
      value = build();
      if (this.memo.size >= MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value as string);
      this.memo.set(memoKey, value);
    }
    return value;
  }

  /** The DCAP collateral (a PCS files map) for one TEE type, FMSPC and PCK CA. */
  async dcap(tee: Tee, fmspc: Uint8Array, ca: 'platform' | 'processor', at: Date): Promise<unknown> {
    const pcs = this.options.pcs;
    const update = this.update;
    const hex = toHex(fmspc);
    const [tcbInfo, qeIdentity, pckCrl, rootCaCrl] = await Promise.all([
      this.item(
        'intel.tcbInfo',
        `${tee}/${hex}/${update}`,
        at,
        pcs && (() => pcs.tcbInfo(tee, fmspc, update)),
      ),
      this.item('intel.qeIdentity', `${tee}/${update}`, at, pcs && (() => pcs.qeIdentity(tee, update))),
      this.item('intel.pckCrl', ca, at, pcs && (() => pcs.pckCrl(ca))),
      this.item('intel.rootCaCrl', 'root', at, pcs && (() => pcs.rootCaCrl())),
    ]);
    return this.remember(
      [tcbInfo.contentHash, qeIdentity.contentHash, pckCrl.contentHash, rootCaCrl.contentHash],
      () => parseDcapCollateral(dcapFiles(tcbInfo, qeIdentity, pckCrl, rootCaCrl)),
    );
  }

  /** SEV-SNP endorsements `{vcek, chain, crl}` for a report. */
  async snp(needs: Extract<CollateralNeeds, { platform: 'snp' }>, at: Date): Promise<unknown> {
    const kds = this.options.kds;
    let lastError: unknown;
    for (const product of needs.products) {
      try {
        const chain = await this.item(
          'amd.chain',
          `${product}/${needs.signingKey}`,
          at,
          kds && (() => kds.chain(product, needs.signingKey)),
        );
        const crl = await this.optionalCrl(product, needs.signingKey, at);
        if (needs.tableHasVek || needs.signingKey === 'vlek') {
          // The VLEK (or a table's VCEK) travels with the evidence; KDS does not serve VLEKs.
          return this.remember([chain.contentHash, crl?.contentHash ?? '-'], () => ({
            chain: chain.body,
            ...(crl === undefined ? {} : { crl: crl.body }),
          }));
        }
        const tcb = decodeTcb(needs.reportedTcb, product, 'report/reported_tcb');
        const hwId = product === 'Turin' ? needs.chipId.subarray(0, 8) : needs.chipId;
        const key = `${product}/${toHex(hwId)}/${tcbKey(product, tcb)}`;
        const vcek = await this.item(
          'amd.vcek',
          key,
          at,
          kds && (() => kds.vcek({ product, chipId: needs.chipId, tcb, key })),
          { amdChain: chain.body },
        );
        return this.remember([vcek.contentHash, chain.contentHash, crl?.contentHash ?? '-'], () => ({
          vcek: vcek.body,
          chain: chain.body,
          ...(crl === undefined ? {} : { crl: crl.body }),
        }));
      } catch (error) {
        // Another product may be the right one (v2 reports do not say); anything else is final.
        const retryable =
          error instanceof VeriteeError &&
          (error.code === ErrorCode.NOT_FOUND || error.code === ErrorCode.COLLATERAL_UNAVAILABLE);
        if (!retryable || needs.products.length === 1) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /** AMD CRLs are optional: when none can be had, the verifier warns that revocation was not checked. */
  private async optionalCrl(
    product: Product,
    kind: 'vcek' | 'vlek',
    at: Date,
  ): Promise<CollateralItem | undefined> {
    const kds = this.options.kds;
    try {
      return await this.item('amd.crl', `${product}/${kind}`, at, kds && (() => kds.crl(product, kind)));
    } catch (error) {
      if (
        error instanceof VeriteeError &&
        (error.code === ErrorCode.NOT_FOUND || error.code === ErrorCode.COLLATERAL_UNAVAILABLE)
      ) {
        return undefined;
      }
      throw error;
    }
  }

  /** `collateralNeeds`, memoised by the SHA-256 of the evidence (parsing a PCK chain costs more than a store read). */
  private needsOf(bytes: Uint8Array): CollateralNeeds {
    const hash = toHex(backend.hash('SHA-256', bytes));
    let needs = this.needsMemo.get(hash);
    if (needs === undefined) {
      needs = collateralNeeds(bytes, this.options.snpProducts);
      if (this.needsMemo.size >= MEMO_LIMIT)
        this.needsMemo.delete(this.needsMemo.keys().next().value as string);
      this.needsMemo.set(hash, needs);
    }
    return needs;
  }

  /** The collateral `verify` should use for these evidence bytes at `at` (undefined: none needed). */
  async resolve(bytes: Uint8Array, at: Date): Promise<unknown> {
    const needs = this.needsOf(bytes);
    if (needs.platform === 'dcap') return this.dcap(needs.tee, needs.fmspc, needs.ca, at);
    if (needs.platform === 'snp') return this.snp(needs, at);
    return undefined;
  }
}

function dcapFiles(
  tcbInfo: CollateralItem,
  qeIdentity: CollateralItem,
  pckCrl: CollateralItem,
  rootCaCrl: CollateralItem,
): Record<string, Uint8Array> {
  const encoder = new TextEncoder();
  const chain = (item: CollateralItem): Uint8Array => encoder.encode(item.issuerChain ?? '');
  return {
    [PCS_FILES.tcbInfo]: tcbInfo.body,
    [PCS_FILES.tcbInfoIssuerChain]: chain(tcbInfo),
    [PCS_FILES.qeIdentity]: qeIdentity.body,
    [PCS_FILES.qeIdentityIssuerChain]: chain(qeIdentity),
    [PCS_FILES.pckCrl]: crlDer(pckCrl.body, 'intel.pckCrl'),
    [PCS_FILES.pckCrlIssuerChain]: chain(pckCrl),
    [PCS_FILES.rootCaCrl]: crlDer(rootCaCrl.body, 'intel.rootCaCrl'),
  };
}
