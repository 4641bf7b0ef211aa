/**
 * Node-only: the collateral store in PostgreSQL (`pg`), for several verifiers sharing one cache. Same
 * schema as SQLite (`body` BYTEA); the table is created on first use.
 *
 * Change tracking for readers that keep what they resolved in memory: a statement-level trigger on the
 * table counts every INSERT, UPDATE, DELETE and TRUNCATE — by any client — in one row of
 * `veritee_collateral_changes` (one row per store table). The count is updated inside the writing
 * transaction, so it becomes visible together with the change it counts: a reader that reads the count and
 * then the data never holds data older than the count it saw.
 */
import pg from 'pg';
import { ErrorCode, VeriteeError } from '../errors.js';
import { checkTable, type Row, rowToItem, schemaSql } from './store-sqlite.js';
import type { CollateralItem, CollateralKind, CollateralStore } from './types.js';

/** One row per store table: how many writing statements it has seen. */
const CHANGES_TABLE = 'veritee_collateral_changes';
const COUNT_CHANGE = 'veritee_collateral_count_change';
const CHANGED_TRIGGER = 'veritee_collateral_changed';

/** The change counter: its table, and the trigger function that bumps it (shared by every store table). */
const CHANGES_SQL = [
  `CREATE TABLE IF NOT EXISTS ${CHANGES_TABLE} (tbl TEXT PRIMARY KEY, n BIGINT NOT NULL)`,
  `CREATE OR REPLACE FUNCTION ${COUNT_CHANGE}() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO ${CHANGES_TABLE} (tbl, n) VALUES (TG_TABLE_NAME, 1)
       ON CONFLICT (tbl) DO UPDATE SET n = ${CHANGES_TABLE}.n + 1;
     RETURN NULL;
   END $$`,
];

export class PostgresCollateralStore implements CollateralStore {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private ready: Promise<void> | undefined;
  private writes = 0;

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
          // One transaction, serialised against concurrent first uses of this table and of the shared
          // counter (CREATE … IF NOT EXISTS races in PostgreSQL); the locks end with the transaction.
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.table]);
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [CHANGES_TABLE]);
          for (const sql of [...schemaSql(this.table, 'BYTEA'), ...CHANGES_SQL]) await client.query(sql);
          await this.createTrigger(client);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
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

  /**
   * Adds the counting trigger when the table lacks it (tables made by older versions). Created only when
   * missing — never dropped and re-created — so no write can slip by uncounted.
   */
  private async createTrigger(client: pg.PoolClient): Promise<void> {
    const found = await client.query(
      'SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2',
      [this.table, CHANGED_TRIGGER],
    );
    if (found.rowCount !== 0) return;
    await client.query(
      `CREATE TRIGGER ${CHANGED_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${this.table}
       FOR EACH STATEMENT EXECUTE FUNCTION ${COUNT_CHANGE}()`,
    );
  }

  private async query(sql: string, values: unknown[]): Promise<Row[]> {
    return (await this.run(sql, values)).rows as Row[];
  }

  private async run(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    await this.init();
    try {
      return await this.pool.query(sql, values);
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
    const result = await this.run(
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
    if ((result.rowCount ?? 0) > 0) this.writes++;
  }

  localChanges(): number {
    return this.writes;
  }

  /** The table's change count (see the module comment): one indexed read. */
  async externalChanges(): Promise<string> {
    const rows = (await this.run(`SELECT n FROM ${CHANGES_TABLE} WHERE tbl = $1`, [this.table])).rows as {
      n: string;
    }[];
    return rows[0]?.n ?? '0';
  }

  async list(): Promise<readonly CollateralItem[]> {
    return (await this.query(`SELECT * FROM ${this.table} ORDER BY kind, key, not_before DESC`, [])).map(
      rowToItem,
    );
  }

  /** Drops the table (tests). Emptied first, so that the trigger tells other readers it changed. */
  async drop(): Promise<void> {
    await this.query(`TRUNCATE ${this.table}`, []);
    await this.query(`DROP TABLE IF EXISTS ${this.table}`, []);
    this.ready = undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
