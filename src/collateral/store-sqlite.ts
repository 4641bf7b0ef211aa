/**
 * Node-only: the collateral store in embedded SQLite (better-sqlite3), the default backend. One table,
 * keyed by content hash and indexed by (kind, key, not_before); see docs/collateral.md for the schema.
 */
import Database from 'better-sqlite3';
import { ErrorCode, VeriteeError } from '../errors.js';
import { type CollateralItem, type CollateralKind, type CollateralStore, isCollateralKind } from './types.js';

export const SCHEMA_VERSION = 1;

/** The schema, shared with the PostgreSQL backend (there `body` is BYTEA). */
export function schemaSql(table: string, blob: 'BLOB' | 'BYTEA'): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      content_hash TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      key TEXT NOT NULL,
      body ${blob} NOT NULL,
      issuer_chain TEXT,
      not_before BIGINT NOT NULL,
      not_after BIGINT NOT NULL,
      fetched_at BIGINT NOT NULL,
      source TEXT NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS ${table}_kind_key ON ${table} (kind, key, not_before)`,
  ];
}

export interface Row {
  content_hash: string;
  kind: string;
  key: string;
  body: Uint8Array;
  issuer_chain: string | null;
  not_before: number | string;
  not_after: number | string;
  fetched_at: number | string;
  source: string;
}

export function rowToItem(row: Row): CollateralItem {
  if (!isCollateralKind(row.kind)) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_INVALID,
      `store holds an unknown kind "${row.kind.slice(0, 40)}"`,
    );
  }
  return {
    kind: row.kind as CollateralKind,
    key: row.key,
    body: new Uint8Array(row.body),
    issuerChain: row.issuer_chain ?? undefined,
    contentHash: row.content_hash,
    notBefore: new Date(Number(row.not_before)),
    notAfter: new Date(Number(row.not_after)),
    fetchedAt: new Date(Number(row.fetched_at)),
    source: row.source,
  };
}

export function checkTable(table: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'store table name must be a lowercase SQL identifier');
  }
  return table;
}

/** Items kept in memory per store handle (content-addressed, so never stale). */
const ITEM_CACHE = 1024;

export class SqliteCollateralStore implements CollateralStore {
  private readonly items = new Map<string, CollateralItem>();
  private readonly lists = new Map<string, CollateralItem[]>();
  private dataVersion = -1;
  private writes = 0;
  private readonly db: Database.Database;
  private readonly statements: {
    versions: Database.Statement;
    byHash: Database.Statement;
    put: Database.Statement;
    list: Database.Statement;
    dataVersion: Database.Statement;
  };

  /** `path`: a file (created if missing) or `:memory:`. */
  private readonly table: string;

  constructor(path: string, options: { table?: string } = {}) {
    const table = checkTable(options.table ?? 'veritee_collateral');
    this.table = table;
    try {
      this.db = new Database(path);
    } catch (error) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'cannot open the SQLite collateral store', {
        details: `${path}: ${error instanceof Error ? error.message : 'error'}`,
      });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    for (const sql of schemaSql(table, 'BLOB')) this.db.exec(sql);
    this.statements = {
      versions: this.db.prepare(
        `SELECT content_hash, not_before, not_after FROM ${table} WHERE kind = ? AND key = ? ORDER BY not_before DESC`,
      ),
      byHash: this.db.prepare(`SELECT * FROM ${table} WHERE content_hash = ?`),
      put: this.db.prepare(
        `INSERT INTO ${table} (content_hash, kind, key, body, issuer_chain, not_before, not_after, fetched_at, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_hash) DO NOTHING`,
      ),
      list: this.db.prepare(`SELECT * FROM ${table} ORDER BY kind, key, not_before DESC`),
      dataVersion: this.db.prepare('PRAGMA data_version').pluck(),
    };
  }

  /**
   * Items are immutable and named by their content hash, so a version list reads only hashes (a small
   * indexed query) and takes each item from a bounded in-process cache, loading it once. Version lists are
   * remembered until the database changes: `PRAGMA data_version` moves when another connection commits, and
   * this handle's own writes clear the lists.
   */
  async versions(kind: CollateralKind, key: string): Promise<readonly CollateralItem[]> {
    this.checkDataVersion();
    return this.cachedVersions(kind, key);
  }

  private async cachedVersions(kind: CollateralKind, key: string): Promise<readonly CollateralItem[]> {
    const listKey = `${kind}\u0000${key}`;
    const known = this.lists.get(listKey);
    if (known !== undefined) return known;
    const rows = this.statements.versions.all(kind, key) as { content_hash: string }[];
    const out: CollateralItem[] = [];
    for (const row of rows) {
      const item = await this.byHash(row.content_hash);
      if (item !== undefined) out.push(item);
    }
    if (this.lists.size >= ITEM_CACHE) this.lists.clear();
    this.lists.set(listKey, out);
    return out;
  }

  async versionsMany(
    requests: readonly { readonly kind: CollateralKind; readonly key: string }[],
  ): Promise<readonly (readonly CollateralItem[])[]> {
    this.checkDataVersion();
    const out: (readonly CollateralItem[])[] = [];
    for (const request of requests) out.push(await this.cachedVersions(request.kind, request.key));
    return out;
  }

  private checkDataVersion(): void {
    const version = this.statements.dataVersion.get() as number;
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      this.lists.clear();
    }
  }

  async byHash(contentHash: string): Promise<CollateralItem | undefined> {
    const cached = this.items.get(contentHash);
    if (cached !== undefined) return cached;
    const row = this.statements.byHash.get(contentHash) as Row | undefined;
    if (row === undefined) return undefined;
    const item = rowToItem(row);
    if (this.items.size >= ITEM_CACHE) this.items.delete(this.items.keys().next().value as string);
    this.items.set(contentHash, item);
    return item;
  }

  async put(item: CollateralItem): Promise<void> {
    this.lists.clear();
    const { changes } = this.statements.put.run(
      item.contentHash,
      item.kind,
      item.key,
      Buffer.from(item.body),
      item.issuerChain ?? null,
      item.notBefore.getTime(),
      item.notAfter.getTime(),
      item.fetchedAt.getTime(),
      item.source,
    );
    if (changes > 0) this.writes++;
  }

  localChanges(): number {
    return this.writes;
  }

  /**
   * `PRAGMA data_version`: moves when another connection — in this process or another — commits, and never
   * for this connection's own commits (those are `localChanges`).
   */
  async externalChanges(): Promise<string> {
    return String(this.statements.dataVersion.get());
  }

  async list(): Promise<readonly CollateralItem[]> {
    return (this.statements.list.all() as Row[]).map(rowToItem);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
