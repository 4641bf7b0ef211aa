/**
 * Collateral bundles: a self-contained JSON file moving verified collateral to an offline or air-gapped
 * verifier. Export writes what a store holds; import parses strictly (unknown members, bad hashes, bad
 * dates and oversize input are errors), re-verifies every item (`verifyItemAuthentic`: signature and
 * issuer chain to the pinned roots, at an instant of the item's own validity window) and stores only
 * what verified. Nothing in a bundle is trusted because it is in a bundle.
 *
 * Format (version 1):
 *   { "format": "veritee-collateral-bundle", "version": 1, "exportedAt": ISO-8601,
 *     "items": [ { "kind", "key", "body": base64, "issuerChain"?: PEM, "contentHash": hex,
 *                  "notBefore": ISO-8601, "notAfter": ISO-8601, "fetchedAt": ISO-8601, "source" } ] }
 */
import { fromBase64, toBase64, utf8Decode, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { TrustAnchor } from '../pki/chain.js';
import { contentHashOf, verifyItemAuthentic } from './items.js';
import { type CollateralItem, type CollateralStore, isCollateralKind } from './types.js';

export const BUNDLE_FORMAT = 'veritee-collateral-bundle';
export const BUNDLE_VERSION = 1;
const MAX_BUNDLE_BYTES = 64 << 20;
const MAX_ITEMS = 10_000;
const ITEM_FIELDS = [
  'kind',
  'key',
  'body',
  'issuerChain',
  'contentHash',
  'notBefore',
  'notAfter',
  'fetchedAt',
  'source',
];

export async function exportBundle(
  store: CollateralStore,
  now = new Date(),
  select?: readonly CollateralItem[],
): Promise<Uint8Array> {
  const items = (select ?? (await store.list())).map((item) => ({
    kind: item.kind,
    key: item.key,
    body: toBase64(item.body),
    ...(item.issuerChain === undefined ? {} : { issuerChain: item.issuerChain }),
    contentHash: item.contentHash,
    notBefore: item.notBefore.toISOString(),
    notAfter: item.notAfter.toISOString(),
    fetchedAt: item.fetchedAt.toISOString(),
    source: item.source,
  }));
  return utf8Encode(
    `${JSON.stringify({ format: BUNDLE_FORMAT, version: BUNDLE_VERSION, exportedAt: now.toISOString(), items }, null, 1)}\n`,
  );
}

function bad(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.COLLATERAL_INVALID, message, { path });
}

function str(
  record: Record<string, unknown>,
  field: string,
  path: string,
  optional = false,
): string | undefined {
  const value = record[field];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') throw bad(`${field} must be a string`, `${path}/${field}`);
  return value;
}

function date(record: Record<string, unknown>, field: string, path: string): Date {
  const text = str(record, field, path)!;
  const value = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(value.getTime())) {
    throw bad(`${field} must be an ISO-8601 date`, `${path}/${field}`);
  }
  return value;
}

/** Parses a bundle (no verification). */
export function parseBundle(bytes: Uint8Array): CollateralItem[] {
  if (bytes.length > MAX_BUNDLE_BYTES) {
    throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'collateral bundle too large', { path: 'bundle' });
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8Decode(bytes, 'bundle'));
  } catch (error) {
    if (error instanceof VeriteeError) throw error;
    throw new VeriteeError(ErrorCode.PARSE_MALFORMED, 'collateral bundle is not JSON', { path: 'bundle' });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw bad('bundle must be an object', 'bundle');
  const top = json as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!['format', 'version', 'exportedAt', 'items'].includes(key)) {
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown bundle member "${key.slice(0, 40)}"`, {
        path: 'bundle',
      });
    }
  }
  if (top.format !== BUNDLE_FORMAT) throw bad(`format must be "${BUNDLE_FORMAT}"`, 'bundle/format');
  if (top.version !== BUNDLE_VERSION) {
    throw new VeriteeError(
      ErrorCode.UNSUPPORTED,
      `bundle version ${String(top.version)} is not supported (1)`,
      {
        path: 'bundle/version',
      },
    );
  }
  if (!Array.isArray(top.items)) throw bad('items must be an array', 'bundle/items');
  if (top.items.length > MAX_ITEMS) {
    throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, 'too many bundle items', { path: 'bundle/items' });
  }
  return top.items.map((raw, index) => {
    const path = `bundle/items[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw bad('item must be an object', path);
    const record = raw as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!ITEM_FIELDS.includes(key)) {
        throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown item member "${key.slice(0, 40)}"`, {
          path,
        });
      }
    }
    const kind = str(record, 'kind', path);
    if (!isCollateralKind(kind)) throw bad(`unknown kind "${String(kind).slice(0, 40)}"`, `${path}/kind`);
    const body = fromBase64(str(record, 'body', path)!, `${path}/body`);
    const issuerChain = str(record, 'issuerChain', path, true);
    const contentHash = str(record, 'contentHash', path)!;
    if (contentHashOf(body, issuerChain) !== contentHash) {
      throw bad('contentHash does not match the item', `${path}/contentHash`);
    }
    return {
      kind,
      key: str(record, 'key', path)!,
      body,
      issuerChain,
      contentHash,
      notBefore: date(record, 'notBefore', path),
      notAfter: date(record, 'notAfter', path),
      fetchedAt: date(record, 'fetchedAt', path),
      source: str(record, 'source', path)!,
    };
  });
}

export interface ImportResult {
  readonly imported: number;
  readonly alreadyPresent: number;
}

/**
 * Verifies every item of a bundle and stores them. All or nothing: if any item fails, nothing is stored
 * and the error names the item.
 */
export async function importBundle(
  store: CollateralStore,
  bytes: Uint8Array,
  options: { at?: Date; anchors?: readonly TrustAnchor[] } = {},
): Promise<ImportResult> {
  const at = options.at ?? new Date();
  const items = parseBundle(bytes);
  const chains = new Map<string, Uint8Array>();
  for (const item of items) if (item.kind === 'amd.chain') chains.set(item.key, item.body);
  const verified: CollateralItem[] = [];
  for (const [index, item] of items.entries()) {
    let amdChain: Uint8Array | undefined;
    if (item.kind === 'amd.vcek') {
      const product = item.key.split('/')[0] ?? '';
      amdChain =
        chains.get(`${product}/vcek`) ?? (await store.versions('amd.chain', `${product}/vcek`))[0]?.body;
    }
    let checked: CollateralItem;
    try {
      checked = await verifyItemAuthentic(item, at, { anchors: options.anchors, amdChain });
    } catch (error) {
      if (error instanceof VeriteeError) throw error.within(`bundle/items[${index}]`);
      throw error;
    }
    // The validity window is re-derived from the signed content, never taken from the bundle.
    verified.push({ ...checked, fetchedAt: item.fetchedAt, source: item.source });
  }
  let alreadyPresent = 0;
  for (const item of verified) {
    if ((await store.byHash(item.contentHash)) !== undefined) alreadyPresent++;
    else await store.put(item);
  }
  return { imported: verified.length - alreadyPresent, alreadyPresent };
}
