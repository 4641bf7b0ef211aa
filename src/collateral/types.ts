/**
 * The collateral store contract, shared by every backend (memory, SQLite, PostgreSQL).
 *
 * An item is one piece of vendor collateral exactly as the vendor served it, keyed by what it describes
 * (`kind` + `key`, e.g. `intel.tcbInfo` + `tdx/00806f050000/standard`) and by the SHA-256 of its content.
 * Several versions of one key may be held (a newer TCB Info does not erase the one a past verdict used);
 * readers pick by validity window. Only verified items are ever `put` (the resolver and the bundle importer
 * verify first); a store never interprets or re-verifies what it holds, and verification re-checks every
 * item it reads from a store at its own `at`.
 */

export const COLLATERAL_KINDS = [
  'intel.tcbInfo',
  'intel.qeIdentity',
  'intel.pckCrl',
  'intel.rootCaCrl',
  'amd.vcek',
  'amd.chain',
  'amd.crl',
] as const;
export type CollateralKind = (typeof COLLATERAL_KINDS)[number];

export function isCollateralKind(value: unknown): value is CollateralKind {
  return typeof value === 'string' && (COLLATERAL_KINDS as readonly string[]).includes(value);
}

export interface CollateralItem {
  readonly kind: CollateralKind;
  /**
   * What the item describes:
   * - `intel.tcbInfo`: `sgx|tdx/<fmspc, lowercase hex>/<standard|early>`
   * - `intel.qeIdentity`: `sgx|tdx/<standard|early>`
   * - `intel.pckCrl`: `platform|processor`; `intel.rootCaCrl`: `root`
   * - `amd.vcek`: `<Milan|Genoa|Turin>/<hwID hex>/<reported TCB, 16 hex digits>`
   * - `amd.chain`, `amd.crl`: `<product>/<vcek|vlek>`
   */
  readonly key: string;
  /** The body as served: TCB Info / QE Identity JSON, CRL or certificate DER, chain PEM. */
  readonly body: Uint8Array;
  /** Intel: the issuer-chain header (PEM). */
  readonly issuerChain?: string | undefined;
  /** SHA-256 over `body` ‖ 0x00 ‖ `issuerChain`, lowercase hex. */
  readonly contentHash: string;
  /** Start of validity (issueDate, thisUpdate, notBefore). */
  readonly notBefore: Date;
  /** End of validity (nextUpdate, notAfter). */
  readonly notAfter: Date;
  /** When this copy was obtained. */
  readonly fetchedAt: Date;
  /** Where it came from: a URL, `bundle`, `import`. */
  readonly source: string;
}

export interface CollateralStore {
  /** Every version held for a key, newest `notBefore` first. */
  versions(kind: CollateralKind, key: string): Promise<readonly CollateralItem[]>;
  byHash(contentHash: string): Promise<CollateralItem | undefined>;
  /** Optional: `versions` of several keys in one round trip (the resolver's hot path). */
  versionsMany?(
    requests: readonly { readonly kind: CollateralKind; readonly key: string }[],
  ): Promise<readonly (readonly CollateralItem[])[]>;
  /** Adds a verified item; a second put of the same content hash is a no-op. */
  put(item: CollateralItem): Promise<void>;
  /** Every item, ordered by kind, key, newest first. */
  list(): Promise<readonly CollateralItem[]>;
  close(): Promise<void>;
  /**
   * Optional change tracking; a store that has it lets a `CollateralResolver` keep what it resolved in
   * memory. How many writes went through this handle: it must move before `put` resolves, and it is read on
   * every resolution, so it must be free (a counter).
   */
  localChanges?(): number;
  /**
   * Optional, with `localChanges`: an opaque token that differs after anyone else (another handle, another
   * process) committed a change, deletes included. It costs a query, so resolvers ask at most every
   * `storeRecheckMs`. A store that only this handle can write (the memory store) omits it.
   */
  externalChanges?(): Promise<string>;
}

/** The version valid at `at` with the newest `notBefore`; undefined when none covers `at`. */
export function pickValid(items: readonly CollateralItem[], at: Date): CollateralItem | undefined {
  const t = at.getTime();
  let best: CollateralItem | undefined;
  for (const item of items) {
    if (item.notBefore.getTime() > t || item.notAfter.getTime() < t) continue;
    if (best === undefined || item.notBefore > best.notBefore) best = item;
  }
  return best;
}

/**
 * The span of times `[from, until)` around `at` (milliseconds; ±Infinity when open) over which
 * `pickValid(items, ·)` gives the same answer as at `at` — the same item, or none. Its answer can only
 * change where an item's window opens (`notBefore`) or closes (just after `notAfter`), so the span runs
 * between the nearest of those edges on either side.
 */
export function unchangedSpan(
  items: readonly CollateralItem[],
  at: Date,
): { readonly from: number; readonly until: number } {
  const t = at.getTime();
  let from = Number.NEGATIVE_INFINITY;
  let until = Number.POSITIVE_INFINITY;
  const edge = (time: number): void => {
    if (time <= t) from = Math.max(from, time);
    else until = Math.min(until, time);
  };
  for (const item of items) {
    edge(item.notBefore.getTime());
    edge(item.notAfter.getTime() + 1);
  }
  return { from, until };
}
