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
 *
 * Warm path. A resolver keeps what it resolved in memory, per collateral needs (platform, TEE type, FMSPC,
 * CA; product, chip, TCB), together with the span of verification times over which the store's answer
 * stays the same (`unchangedSpan`): a later `at` inside that span gets the same collateral object without
 * reading the store, and an `at` outside it reads the store again (so an item whose window has closed is
 * not served past its end). What is kept is only ever what the store returned — items verified before they
 * were stored — and the platform verifier still checks dates and revocation at `at` on every call. It is
 * dropped when the store changes: at once for writes through the same store handle (`localChanges`), and for
 * writes by other handles or processes (`externalChanges`: SQLite `PRAGMA data_version`, a PostgreSQL change
 * counter) within `storeRecheckMs` (default 1 s; 0 asks on every resolution). A store without change
 * tracking is read on every resolution.
 *
 * Refresh. A stored item is served until its window closes (Intel TCB Info: about 30 days), so a newer one
 * published meanwhile (a TCB recovery) would go unseen. `refresh(bytes, at)` fetches the evidence's items
 * from the service whatever the store holds, verifies each exactly as a fetch for `resolve` does, and
 * stores it only when it is newer than every stored version of its key (`freshness`: TCB evaluation data
 * number, then issue date; CRLs by thisUpdate). An item older than, or as old as but different from, the
 * newest stored one is refused as `COLLATERAL_ROLLBACK` (a stale or malicious mirror) and not stored.
 * Intel DCAP only: SEV-SNP VCEKs and chains do not change, and the KDS CRL is fetched again when it expires.
 */

import { toHex, utf8Encode } from '../bytes.js';
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
import { crlDer, freshness, type RawItem, tcbKey, verifyItem } from './items.js';
import type { KdsProvider, PcsProvider, TcbUpdate, Tee } from './providers.js';
import {
  type CollateralItem,
  type CollateralKind,
  type CollateralStore,
  pickValid,
  unchangedSpan,
} from './types.js';

export interface ResolverEvent {
  readonly type: 'hit' | 'stale' | 'fetch' | 'stored' | 'rejected';
  readonly kind: CollateralKind;
  readonly key: string;
  /** hit: the content hash of the version used; stale: its window; stored: its content hash; rejected: why. */
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
  /**
   * At most how long (ms) collateral kept in memory may lag behind writes made to the store by other handles
   * or processes: the store is asked whether they changed it at most this often. Writes through the same
   * store handle are seen at once. 0: ask on every resolution. Default 1000.
   */
  readonly storeRecheckMs?: number | undefined;
  /** The clock for `storeRecheckMs`, in ms (tests inject one). Default `Date.now`. */
  readonly clock?: (() => number) | undefined;
}

/** What one `refresh` did: the needs it refreshed, what it stored, and why any item was not stored. */
export interface RefreshOutcome {
  /** The needs refreshed, as `needsKey` names them. */
  readonly needs: string;
  /** Items that were newer than the store's and are now stored. */
  readonly stored: readonly CollateralItem[];
  /** Per item not stored: a fetch, verification or rollback error (`COLLATERAL_ROLLBACK`). */
  readonly errors: readonly VeriteeError[];
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

type DcapNeeds = Extract<CollateralNeeds, { platform: 'dcap' }>;
type SnpNeeds = Extract<CollateralNeeds, { platform: 'snp' }>;

/** Reads what collateral the evidence needs (parses; verifies nothing). */
export function collateralNeeds(bytes: Uint8Array, snpProducts?: readonly Product[]): CollateralNeeds {
  if (looksLikeQuote(bytes)) return dcapNeeds(bytes);
  if (looksLikeReport(bytes)) return snpNeeds(bytes, snpProducts);
  return { platform: 'none' };
}

function dcapNeeds(bytes: Uint8Array): DcapNeeds {
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

function snpNeeds(bytes: Uint8Array, snpProducts: readonly Product[] | undefined): SnpNeeds {
  const { report: reportBytes, certTable } = splitExtendedReport(bytes);
  const report = parseReport(reportBytes);
  const products =
    report.cpuid === undefined ? (snpProducts ?? PRODUCTS) : [productFromCpuid(report.cpuid, 'report/cpuid')];
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

/**
 * DCAP needs by the quote's certificate tail, so that a warm verification does not parse the PCK chain
 * (~100 µs) to learn what it already learnt. A quote's needs are its TEE type and what its PCK chain says
 * (FMSPC, issuing CA). The chain is PEM text at the end of the quote, the same in every quote of one
 * platform, while the body and signatures before it change with every quote: so the key is the TEE type
 * and the text from the first PEM marker to the end (which holds the whole chain), compared exactly — as a
 * string, natively — and found by its first characters (the leaf certificate's serial number is among
 * them). About 1 µs for a 5 kB quote.
 *
 * The needs only say which collateral to look up: the verifier checks the collateral against the parsed
 * quote (TEE type, FMSPC, PCK CA), so a crafted quote whose tail copies another platform's is handed
 * collateral that its own verification rejects, never accepts.
 */
class QuoteNeedsMemo {
  private readonly entries = new Map<string, { readonly tail: string; readonly needs: KeyedNeeds }>();
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  of(bytes: Uint8Array): KeyedNeeds {
    const tail = this.tailOf(bytes);
    if (tail === undefined) return keyed(dcapNeeds(bytes));
    const lookup = `${readU32(bytes, 4)}:${tail.slice(0, TAIL_LOOKUP_CHARS)}`;
    const known = this.entries.get(lookup);
    if (known !== undefined && known.tail === tail) return known.needs;
    const needs = keyed(dcapNeeds(bytes));
    if (this.entries.size >= MEMO_LIMIT) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(lookup, { tail, needs });
    return needs;
  }

  /** The text from the first PEM marker to the end; undefined when there is none or it is not UTF-8. */
  private tailOf(bytes: Uint8Array): string | undefined {
    const start = firstPemMarker(bytes);
    if (start < 0) return undefined;
    try {
      return this.decoder.decode(bytes.subarray(start));
    } catch {
      return undefined;
    }
  }
}

const PEM_BEGIN = utf8Encode('-----BEGIN CERTIFICATE-----');
const DASH = 0x2d;
const DASHES = 5;
/** Characters of a quote's tail used to find its memo entry: the marker and the leaf's first ~50 bytes. */
const TAIL_LOOKUP_CHARS = 96;

/**
 * The index of the first PEM marker in `bytes`, or -1. The marker opens with five dashes, so one byte in
 * five is read: any marker covers exactly one index ≡ 4 (mod 5), and the five starts that could cover a
 * dash found there are tried in order, so the first marker is the one found first.
 */
export function firstPemMarker(bytes: Uint8Array): number {
  const lastStart = bytes.length - PEM_BEGIN.length;
  for (let i = DASHES - 1; i - (DASHES - 1) <= lastStart; i += DASHES) {
    if (bytes[i] !== DASH) continue;
    for (let start = i - (DASHES - 1); start <= i && start <= lastStart; start++) {
      let j = 0;
      while (j < PEM_BEGIN.length && bytes[start + j] === PEM_BEGIN[j]) j++;
      if (j === PEM_BEGIN.length) return start;
    }
  }
  return -1;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0
  );
}

/** One DCAP item and how to fetch it (undefined: no PCS configured). */
interface DcapItemRequest {
  readonly kind: CollateralKind;
  readonly key: string;
  readonly fetch: (() => Promise<RawItem>) | undefined;
}

/** Needs with the string that names them in the resolution memo. */
interface KeyedNeeds {
  readonly needs: CollateralNeeds;
  readonly key: string;
}

function keyed(needs: CollateralNeeds): KeyedNeeds {
  switch (needs.platform) {
    case 'none':
      return { needs, key: 'none' };
    case 'dcap':
      return { needs, key: `dcap/${needs.tee}/${toHex(needs.fmspc)}/${needs.ca}` };
    case 'snp':
      return {
        needs,
        key: [
          'snp',
          needs.products.join(','),
          toHex(needs.chipId),
          toHex(needs.reportedTcb),
          needs.signingKey,
          needs.hasCertTable,
          needs.tableHasVek,
        ].join('/'),
      };
  }
}

/** Collateral resolved for one needs, reusable for any `at` in `[from, until)` until the store changes. */
interface Kept {
  readonly from: number;
  readonly until: number;
  readonly value: unknown;
  /** The hit and stale events resolving it reported, reported again on each reuse. */
  readonly events: readonly ResolverEvent[];
}

/** What one resolution learnt from the store: the span its answer holds for, whether it fetched, its events. */
class Trace {
  from = Number.NEGATIVE_INFINITY;
  until = Number.POSITIVE_INFINITY;
  fetched = false;
  readonly events: ResolverEvent[] = [];

  /** Narrows the span to where the store's answer for one key (`versions`) stays what it is at `at`. */
  narrow(versions: readonly CollateralItem[], at: Date): void {
    const span = unchangedSpan(versions, at);
    this.from = Math.max(this.from, span.from);
    this.until = Math.min(this.until, span.until);
  }
}

const MEMO_LIMIT = 256;
/** Spans of `at` kept per needs: usually one (`at` = now), a few when callers verify at pinned times. */
const SPANS_PER_NEEDS = 4;
const DEFAULT_STORE_RECHECK_MS = 1000;

export class CollateralResolver {
  private readonly memo = new Map<string, unknown>();
  private readonly quoteNeeds = new QuoteNeedsMemo();
  private readonly inflight = new Map<string, Promise<CollateralItem>>();
  private readonly kept = new Map<string, Kept[]>();
  private readonly recheckMs: number;
  private readonly clock: () => number;
  /** Moves whenever `kept` is emptied, so that a resolution that began before does not refill it. */
  private generation = 0;
  private seenLocalChanges = -1;
  private seenExternalChanges: string | undefined;
  private lastExternalCheck = Number.NEGATIVE_INFINITY;
  private externalCheck: Promise<void> | undefined;

  constructor(readonly options: CollateralResolverOptions) {
    const recheckMs = options.storeRecheckMs ?? DEFAULT_STORE_RECHECK_MS;
    if (!(Number.isFinite(recheckMs) && recheckMs >= 0)) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'storeRecheckMs must be a number ≥ 0', {
        path: 'storeRecheckMs',
      });
    }
    this.recheckMs = recheckMs;
    this.clock = options.clock ?? Date.now;
  }

  private get update(): TcbUpdate {
    return this.options.update ?? this.options.pcs?.update ?? 'standard';
  }

  private emit(event: ResolverEvent, trace?: Trace): void {
    trace?.events.push(event);
    this.options.onEvent?.(event);
  }

  /**
   * One item: the store's version valid at `at`, else a fetched and verified one (stored), else — offline —
   * the store's newest (stale) version, else COLLATERAL_UNAVAILABLE.
   */
  private async item(
    kind: CollateralKind,
    key: string,
    at: Date,
    fetch: (() => Promise<RawItem>) | undefined,
    trace: Trace,
    amdChain?: Uint8Array,
  ): Promise<CollateralItem> {
    const versions = await this.options.store.versions(kind, key);
    trace.narrow(versions, at);
    const valid = pickValid(versions, at);
    if (valid !== undefined) {
      this.emit({ type: 'hit', kind, key, detail: valid.contentHash }, trace);
      return valid;
    }
    if (this.options.offline === true || fetch === undefined) {
      const newest = versions[0];
      if (newest !== undefined) {
        const detail = `valid ${newest.notBefore.toISOString()}..${newest.notAfter.toISOString()}`;
        this.emit({ type: 'stale', kind, key, detail }, trace);
        return newest;
      }
      throw new VeriteeError(ErrorCode.COLLATERAL_UNAVAILABLE, `no ${kind} in the store`, {
        path: `${kind}/${key}`,
        details:
          this.options.offline === true ? 'offline: nothing is fetched' : 'no collateral service configured',
      });
    }
    trace.fetched = true;
    const flightKey = `${kind} ${key} ${at.getTime()}`;
    let pending = this.inflight.get(flightKey);
    if (pending === undefined) {
      pending = (async () => {
        this.emit({ type: 'fetch', kind, key });
        const raw = await fetch();
        let item: CollateralItem;
        try {
          item = await verifyItem(raw, at, { anchors: this.options.anchors, amdChain });
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

  /** The four DCAP items for one TEE type, FMSPC and PCK CA, with how to fetch each. */
  private dcapItems(needs: DcapNeeds): DcapItemRequest[] {
    const pcs = this.options.pcs;
    const update = this.update;
    const { tee, fmspc, ca } = needs;
    return [
      {
        kind: 'intel.tcbInfo',
        key: `${tee}/${toHex(fmspc)}/${update}`,
        fetch: pcs && (() => pcs.tcbInfo(tee, fmspc, update)),
      },
      {
        kind: 'intel.qeIdentity',
        key: `${tee}/${update}`,
        fetch: pcs && (() => pcs.qeIdentity(tee, update)),
      },
      { kind: 'intel.pckCrl', key: ca, fetch: pcs && (() => pcs.pckCrl(ca)) },
      { kind: 'intel.rootCaCrl', key: 'root', fetch: pcs && (() => pcs.rootCaCrl()) },
    ];
  }

  /** The DCAP collateral (a PCS files map) for one TEE type, FMSPC and PCK CA. */
  private async dcap(needs: DcapNeeds, at: Date, trace: Trace): Promise<unknown> {
    const [tcbInfo, qeIdentity, pckCrl, rootCaCrl] = await Promise.all(
      this.dcapItems(needs).map((request) => this.item(request.kind, request.key, at, request.fetch, trace)),
    );
    return this.remember(
      [tcbInfo!.contentHash, qeIdentity!.contentHash, pckCrl!.contentHash, rootCaCrl!.contentHash],
      () => parseDcapCollateral(dcapFiles(tcbInfo!, qeIdentity!, pckCrl!, rootCaCrl!)),
    );
  }

  /** SEV-SNP endorsements `{vcek, chain, crl}` for a report. */
  private async snp(needs: SnpNeeds, at: Date, trace: Trace): Promise<unknown> {
    const kds = this.options.kds;
    let lastError: unknown;
    for (const product of needs.products) {
      try {
        const chain = await this.item(
          'amd.chain',
          `${product}/${needs.signingKey}`,
          at,
          kds && (() => kds.chain(product, needs.signingKey)),
          trace,
        );
        const crl = await this.optionalCrl(product, needs.signingKey, at, trace);
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
          trace,
          chain.body,
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
    trace: Trace,
  ): Promise<CollateralItem | undefined> {
    const kds = this.options.kds;
    try {
      const fetch = kds && (() => kds.crl(product, kind));
      return await this.item('amd.crl', `${product}/${kind}`, at, fetch, trace);
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

  /** DCAP needs come from the tail memo (no chain parsing when warm); SEV-SNP reports are cheap to read. */
  private needsOf(bytes: Uint8Array): KeyedNeeds {
    if (looksLikeQuote(bytes)) return this.quoteNeeds.of(bytes);
    return keyed(collateralNeeds(bytes, this.options.snpProducts));
  }

  /** Forgets the collateral kept in memory: the next resolution reads the store. */
  forget(): void {
    this.kept.clear();
    this.generation++;
  }

  /**
   * Brings what is kept up to date with the store: this handle's writes at once, other writers' at most
   * `storeRecheckMs` late. False when the store cannot tell (no change tracking): nothing is kept then.
   */
  private async followStore(): Promise<boolean> {
    const store = this.options.store;
    if (store.localChanges === undefined) return false;
    if (store.externalChanges !== undefined) {
      await this.checkExternalChanges(() => store.externalChanges!());
    }
    const local = store.localChanges();
    if (local !== this.seenLocalChanges) {
      this.forget();
      this.seenLocalChanges = local;
    }
    return true;
  }

  /**
   * Asks the store about other writers when its last answer is `storeRecheckMs` old (or the clock went
   * back). Concurrent resolutions wait for a check in flight rather than use what it may invalidate; with
   * `storeRecheckMs` 0 every resolution asks for itself.
   */
  private async checkExternalChanges(ask: () => Promise<string>): Promise<void> {
    if (this.recheckMs === 0) {
      this.noteExternalChanges(await ask());
      return;
    }
    if (this.externalCheck === undefined) {
      const now = this.clock();
      if (now >= this.lastExternalCheck && now - this.lastExternalCheck < this.recheckMs) return;
      this.externalCheck = (async () => {
        try {
          this.noteExternalChanges(await ask());
          this.lastExternalCheck = now;
        } finally {
          this.externalCheck = undefined;
        }
      })();
    }
    await this.externalCheck;
  }

  private noteExternalChanges(token: string): void {
    if (token === this.seenExternalChanges) return;
    this.forget();
    this.seenExternalChanges = token;
  }

  private findKept(key: string, t: number): Kept | undefined {
    const spans = this.kept.get(key);
    if (spans === undefined) return undefined;
    for (const kept of spans) if (kept.from <= t && t < kept.until) return kept;
    return undefined;
  }

  private keep(key: string, kept: Kept): void {
    let spans = this.kept.get(key);
    if (spans === undefined) {
      if (this.kept.size >= MEMO_LIMIT) this.kept.delete(this.kept.keys().next().value as string);
      spans = [];
      this.kept.set(key, spans);
    }
    spans.unshift(kept);
    if (spans.length > SPANS_PER_NEEDS) spans.pop();
  }

  /** The string naming what collateral these evidence bytes need (equal for evidence of one platform). */
  needsKey(bytes: Uint8Array): string {
    return this.needsOf(bytes).key;
  }

  /**
   * Fetches the evidence's collateral whatever the store holds, verifies it at `at`, and stores what is
   * newer than the store's newest version (see the file comment). Offline, without a PCS, or for evidence
   * other than Intel DCAP it fetches nothing. Never throws for one item: its error is in the outcome.
   */
  async refresh(bytes: Uint8Array, at: Date): Promise<RefreshOutcome> {
    const { needs, key } = this.needsOf(bytes);
    if (needs.platform !== 'dcap' || this.options.offline === true || this.options.pcs === undefined) {
      return { needs: key, stored: [], errors: [] };
    }
    const settled = await Promise.allSettled(
      this.dcapItems(needs).map((request) => this.refreshItem(request, at)),
    );
    const stored: CollateralItem[] = [];
    const errors: VeriteeError[] = [];
    for (const result of settled) {
      if (result.status === 'rejected') errors.push(asVeriteeError(result.reason));
      else if (result.value !== undefined) stored.push(result.value);
    }
    if (stored.length > 0) this.forget();
    return { needs: key, stored, errors };
  }

  /** One item of a refresh: stored and returned when newer, undefined when the store has it already. */
  private async refreshItem(request: DcapItemRequest, at: Date): Promise<CollateralItem | undefined> {
    const { kind, key } = request;
    this.emit({ type: 'fetch', kind, key });
    let item: CollateralItem;
    try {
      item = await verifyItem(await request.fetch!(), at, { anchors: this.options.anchors });
    } catch (error) {
      this.emit({ type: 'rejected', kind, key, detail: error instanceof Error ? error.message : undefined });
      throw error;
    }
    let newest: { item: CollateralItem; rank: readonly [number, number] } | undefined;
    for (const version of await this.options.store.versions(kind, key)) {
      const rank = freshness(version);
      if (newest === undefined || compareRank(rank, newest.rank) > 0) newest = { item: version, rank };
    }
    if (newest?.item.contentHash === item.contentHash) return undefined;
    const rank = freshness(item);
    if (newest !== undefined && compareRank(rank, newest.rank) <= 0) {
      const error = new VeriteeError(
        ErrorCode.COLLATERAL_ROLLBACK,
        `the service served ${kind} that is not newer than the stored one; not stored`,
        {
          path: `${kind}/${key}`,
          details: `served ${describeRank(kind, rank)}, stored ${describeRank(kind, newest.rank)}`,
        },
      );
      this.emit({ type: 'rejected', kind, key, detail: error.message });
      throw error;
    }
    await this.options.store.put(item);
    this.emit({ type: 'stored', kind, key, detail: item.contentHash });
    return item;
  }

  /** The collateral `verify` should use for these evidence bytes at `at` (undefined: none needed). */
  async resolve(bytes: Uint8Array, at: Date): Promise<unknown> {
    const t = at.getTime();
    if (Number.isNaN(t)) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'verification time is not a valid date');
    }
    const { needs, key } = this.needsOf(bytes);
    if (needs.platform === 'none') return undefined;
    const keeping = await this.followStore();
    const found = keeping ? this.findKept(key, t) : undefined;
    if (found !== undefined) {
      if (this.options.onEvent !== undefined) for (const event of found.events) this.emit(event);
      return found.value;
    }
    const generation = this.generation;
    const trace = new Trace();
    const value =
      needs.platform === 'dcap' ? await this.dcap(needs, at, trace) : await this.snp(needs, at, trace);
    // Keep only what the store alone answered, and only if nothing changed while it was read.
    const unchanged =
      generation === this.generation && this.options.store.localChanges?.() === this.seenLocalChanges;
    if (keeping && unchanged && !trace.fetched) {
      this.keep(key, { from: trace.from, until: trace.until, value, events: trace.events });
    }
    return value;
  }
}

function compareRank(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

function describeRank(kind: CollateralKind, rank: readonly [number, number]): string {
  const issued = `issued ${new Date(rank[1]).toISOString()}`;
  return kind === 'intel.tcbInfo' || kind === 'intel.qeIdentity'
    ? `evaluation data ${rank[0]} ${issued}`
    : issued;
}

function asVeriteeError(error: unknown): VeriteeError {
  if (error instanceof VeriteeError) return error;
  return new VeriteeError(ErrorCode.COLLATERAL_UNAVAILABLE, 'collateral refresh failed', {
    details: error instanceof Error ? error.message.slice(0, 160) : undefined,
  });
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
