/**
 * Node-only: the collateral store in PostgreSQL (`pg`), for several verifiers sharing one cache. Same
 * schema as SQLite (`body` BYTEA); the table is created on first use.
 */
import pg from 'pg';
import { ErrorCode, VeriteeError } from '../errors.js';
import { checkTable, type Row, rowToItem, schemaSql } from './store-sqlite.js';
import type { CollateralItem, CollateralKind, CollateralStore } from './types.js';

export class PostgresCollateralStore implements CollateralStore {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private ready: Promise<void> | undefined;

  constructor(url: string, options: { table?: string; max?: number } = {}) {
    this.table = checkTable(options.table ?? 'veritee_collateral');
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 4,
      connectionTimeoutMillis: 10_000,
    });
    this.pool.on('error', () => undefined);
  }

  private async init(): Promise<void> {
    this.ready ??= (async () => {
      try {
        const client = await this.pool.connect();
        try {
          // Serialise concurrent first uses (CREATE TABLE IF NOT EXISTS races in PostgreSQL).
          await client.query('SELECT pg_advisory_lock(hashtext($1))', [this.table]);
          for (const sql of schemaSql(this.table, 'BYTEA')) await client.query(sql);
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.table]);
        } finally {
          client.release();
        }
      } catch (error) {
        this.ready = undefined;
        throw new VeriteeError(
          ErrorCode.COLLATERAL_UNAVAILABLE,
          'cannot open the PostgreSQL collateral store',
          {
            details: error instanceof Error ? error.message.slice(0, 200) : undefined,
          },
        );
      }
    })();
    return this.ready;
  }

  private async query(sql: string, values: unknown[]): Promise<Row[]> {
    await this.init();
    try {
      return (await this.pool.query(sql, values)).rows as Row[];
    } catch (error) {
      throw new VeriteeError(ErrorCode.COLLATERAL_UNAVAILABLE, 'PostgreSQL collateral store query failed', {
        details: error instanceof Error ? error.message.slice(0, 200) : undefined,
      });
    }
  }

  async versions(kind: CollateralKind, key: string): Promise<readonly CollateralItem[]> {
    const rows = await this.query(
      `SELECT * FROM ${this.table} WHERE kind = $1 AND key = $2 ORDER BY not_before DESC`,
      [kind, key],
    );
    return rows.map(rowToItem);
  }

  async byHash(contentHash: string): Promise<CollateralItem | undefined> {
    const rows = await this.query(`SELECT * FROM ${this.table} WHERE content_hash = $1`, [contentHash]);
    return rows[0] === undefined ? undefined : rowToItem(rows[0]);
  }

  async put(item: CollateralItem): Promise<void> {
    await this.query(
      `INSERT INTO ${this.table} (content_hash, kind, key, body, issuer_chain, not_before, not_after, fetched_at, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (content_hash) DO NOTHING`,
      [
        item.contentHash,
        item.kind,
        item.key,
        Buffer.from(item.body),
        item.issuerChain ?? null,
        item.notBefore.getTime(),
        item.notAfter.getTime(),
        item.fetchedAt.getTime(),
        item.source,
      ],
    );
  }

  async list(): Promise<readonly CollateralItem[]> {
    return (await this.query(`SELECT * FROM ${this.table} ORDER BY kind, key, not_before DESC`, [])).map(
      rowToItem,
    );
  }

  /** Drops the table (tests). */
  async drop(): Promise<void> {
    await this.query(`DROP TABLE IF EXISTS ${this.table}`, []);
    this.ready = undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
