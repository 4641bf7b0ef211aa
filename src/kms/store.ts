/**
 * The node's state behind one interface, written once in portable SQL over a small driver (SQLite via
 * better-sqlite3, PostgreSQL via pg: see `node/sqlite.ts`, `node/postgres.ts`).
 *
 * Tables (names prefixed `kms_` plus an optional namespace, so several nodes can share a database):
 *   policy  (app, version) → the owner-signed policy change, and its hash
 *   epoch   (app, epoch)   → the public epoch record and the node's share, HPKE-sealed to the node key
 *   nonce   nonce          → app, expiry, used flag (single use, consumed atomically)
 *   audit   seq            → one hash-chained, node-signed entry; append-only (triggers refuse UPDATE/DELETE)
 *   sealed  (app, name)    → the highest countersigned sealed-state version
 *
 * Every value is JSON text produced by this package; nothing here interprets it beyond what the queries
 * need. A driver failure surfaces as `KMS_STORE_FAILED` with no SQL parameters in the message.
 */
import { ErrorCode, VeriteeError } from '../errors.js';

export interface SqlResult {
  readonly rows: readonly Record<string, unknown>[];
  readonly changes: number;
}

/** A database connection: `?` placeholders; the PostgreSQL driver renumbers them. */
export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  run(sql: string, params?: readonly unknown[]): Promise<SqlResult>;
  /** Runs `fn` in one serialisable unit: a transaction, with no other statement interleaved. */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface EpochRow {
  readonly epoch: number;
  readonly record: string;
  readonly share: string | null;
  readonly retired: boolean;
}

export type AuditBuilder = (
  previous: { seq: number; hash: string } | undefined,
) => { seq: number; hash: string; entry: string } | Promise<{ seq: number; hash: string; entry: string }>;

export type NonceOutcome = 'ok' | 'unknown' | 'used' | 'expired' | 'other-app';

export interface KmsStore {
  readonly kind: string;
  init(): Promise<void>;
  policyVersions(appId: string): Promise<readonly { version: number; hash: string; record: string }[]>;
  latestPolicy(appId: string): Promise<{ version: number; hash: string; record: string } | undefined>;
  /** Inserts version `version`; false when that version already exists (a concurrent change won). */
  addPolicy(appId: string, version: number, hash: string, record: string): Promise<boolean>;
  epochs(appId: string): Promise<readonly EpochRow[]>;
  epoch(appId: string, epoch: number): Promise<EpochRow | undefined>;
  /** False when the epoch already exists. */
  addEpoch(appId: string, epoch: number, record: string, share: string): Promise<boolean>;
  /** Marks an epoch retired and erases the node's share. False when unknown. */
  retireEpoch(appId: string, epoch: number): Promise<boolean>;
  addNonce(nonce: string, appId: string, expiresAt: number): Promise<void>;
  consumeNonce(nonce: string, appId: string, now: number): Promise<NonceOutcome>;
  /** Deletes nonces that expired before `now` (used or not). */
  pruneNonces(now: number): Promise<void>;
  /**
   * Appends audit entries in one transaction (one commit, one fsync: group commit), each built from the
   * head before it; serialised with every other append.
   */
  appendAudit(builds: readonly AuditBuilder[]): Promise<{ seq: number; hash: string; entry: string }[]>;
  readAudit(from: number, limit: number): Promise<readonly string[]>;
  sealed(appId: string, name: string): Promise<string | undefined>;
  /** Writes the sealed record when `accept(current)` says so, atomically. */
  updateSealed(appId: string, name: string, accept: (current: string | undefined) => string): Promise<string>;
  close(): Promise<void>;
}

function storeError(what: string, error: unknown): VeriteeError {
  if (error instanceof VeriteeError) return error;
  const code = (error as { code?: unknown })?.code;
  return new VeriteeError(ErrorCode.KMS_STORE_FAILED, `store: ${what} failed`, {
    details: typeof code === 'string' ? code : undefined,
    cause: error,
  });
}

function integer(value: unknown): number {
  const number = typeof value === 'bigint' ? Number(value) : Number(value);
  if (!Number.isSafeInteger(number)) throw new VeriteeError(ErrorCode.KMS_STORE_FAILED, 'store: bad integer');
  return number;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new VeriteeError(ErrorCode.KMS_STORE_FAILED, 'store: bad text column');
  return value;
}

/** Table names for a namespace (letters, digits and `_` only). */
export function tableNames(namespace = '') {
  if (!/^[a-z0-9_]{0,40}$/.test(namespace)) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      'store namespace: lowercase letters, digits and _ only',
    );
  }
  const prefix = namespace === '' ? 'kms_' : `kms_${namespace}_`;
  return {
    policy: `${prefix}policy`,
    epoch: `${prefix}epoch`,
    nonce: `${prefix}nonce`,
    audit: `${prefix}audit`,
    sealed: `${prefix}sealed`,
  };
}

/** The one store implementation, over either driver. */
export class SqlKmsStore implements KmsStore {
  readonly kind: string;
  readonly #db: SqlDriver;
  readonly #t: ReturnType<typeof tableNames>;

  constructor(db: SqlDriver, namespace = '') {
    this.#db = db;
    this.#t = tableNames(namespace);
    this.kind = db.dialect;
  }

  async #run(what: string, sql: string, params: readonly unknown[] = [], db = this.#db): Promise<SqlResult> {
    try {
      return await db.run(sql, params);
    } catch (error) {
      throw storeError(what, error);
    }
  }

  async #tx<T>(what: string, fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    try {
      return await this.#db.transaction(fn);
    } catch (error) {
      throw storeError(what, error);
    }
  }

  async init(): Promise<void> {
    const t = this.#t;
    const tables = [
      `CREATE TABLE IF NOT EXISTS ${t.policy} (app_id TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (app_id, version))`,
      `CREATE TABLE IF NOT EXISTS ${t.epoch} (app_id TEXT NOT NULL, epoch INTEGER NOT NULL, record TEXT NOT NULL, share TEXT, retired INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (app_id, epoch))`,
      `CREATE TABLE IF NOT EXISTS ${t.nonce} (nonce TEXT PRIMARY KEY, app_id TEXT NOT NULL, expires_at BIGINT NOT NULL, used INTEGER NOT NULL DEFAULT 0)`,
      `CREATE TABLE IF NOT EXISTS ${t.audit} (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, entry TEXT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${t.sealed} (app_id TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (app_id, name))`,
    ];
    const appendOnly =
      this.#db.dialect === 'sqlite'
        ? [
            `CREATE TRIGGER IF NOT EXISTS ${t.audit}_no_update BEFORE UPDATE ON ${t.audit} BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`,
            `CREATE TRIGGER IF NOT EXISTS ${t.audit}_no_delete BEFORE DELETE ON ${t.audit} BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`,
          ]
        : [
            `CREATE OR REPLACE FUNCTION ${t.audit}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$`,
            `CREATE OR REPLACE TRIGGER ${t.audit}_append_only BEFORE UPDATE OR DELETE ON ${t.audit} FOR EACH ROW EXECUTE FUNCTION ${t.audit}_append_only()`,
          ];
    await this.#tx('schema', async (tx) => {
      if (tx.dialect === 'postgres')
        await tx.run(`SELECT pg_advisory_xact_lock(hashtext('veritee-kms-schema'))`);
      for (const sql of [...tables, ...appendOnly]) await tx.run(sql);
    });
  }

  async policyVersions(appId: string) {
    const { rows } = await this.#run(
      'read policy',
      `SELECT version, hash, record FROM ${this.#t.policy} WHERE app_id = ? ORDER BY version`,
      [appId],
    );
    return rows.map((row) => ({
      version: integer(row.version),
      hash: text(row.hash),
      record: text(row.record),
    }));
  }

  async latestPolicy(appId: string) {
    const { rows } = await this.#run(
      'read policy',
      `SELECT version, hash, record FROM ${this.#t.policy} WHERE app_id = ? ORDER BY version DESC LIMIT 1`,
      [appId],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { version: integer(row.version), hash: text(row.hash), record: text(row.record) };
  }

  async addPolicy(appId: string, version: number, hash: string, record: string): Promise<boolean> {
    const { changes } = await this.#run(
      'write policy',
      `INSERT INTO ${this.#t.policy} (app_id, version, hash, record) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [appId, version, hash, record],
    );
    return changes === 1;
  }

  #epochRow(row: Record<string, unknown>): EpochRow {
    return {
      epoch: integer(row.epoch),
      record: text(row.record),
      share: row.share === null ? null : text(row.share),
      retired: integer(row.retired) !== 0,
    };
  }

  async epochs(appId: string) {
    const { rows } = await this.#run(
      'read epochs',
      `SELECT epoch, record, share, retired FROM ${this.#t.epoch} WHERE app_id = ? ORDER BY epoch`,
      [appId],
    );
    return rows.map((row) => this.#epochRow(row));
  }

  async epoch(appId: string, epoch: number) {
    const { rows } = await this.#run(
      'read epoch',
      `SELECT epoch, record, share, retired FROM ${this.#t.epoch} WHERE app_id = ? AND epoch = ?`,
      [appId, epoch],
    );
    return rows[0] === undefined ? undefined : this.#epochRow(rows[0]);
  }

  async addEpoch(appId: string, epoch: number, record: string, share: string): Promise<boolean> {
    const { changes } = await this.#run(
      'write epoch',
      `INSERT INTO ${this.#t.epoch} (app_id, epoch, record, share, retired) VALUES (?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`,
      [appId, epoch, record, share],
    );
    return changes === 1;
  }

  async retireEpoch(appId: string, epoch: number): Promise<boolean> {
    const { changes } = await this.#run(
      'retire epoch',
      `UPDATE ${this.#t.epoch} SET retired = 1, share = NULL WHERE app_id = ? AND epoch = ?`,
      [appId, epoch],
    );
    return changes === 1;
  }

  async addNonce(nonce: string, appId: string, expiresAt: number): Promise<void> {
    await this.#run(
      'write nonce',
      `INSERT INTO ${this.#t.nonce} (nonce, app_id, expires_at, used) VALUES (?, ?, ?, 0)`,
      [nonce, appId, expiresAt],
    );
  }

  async consumeNonce(nonce: string, appId: string, now: number): Promise<NonceOutcome> {
    return this.#tx('consume nonce', async (tx) => {
      const { rows } = await tx.run(`SELECT app_id, expires_at, used FROM ${this.#t.nonce} WHERE nonce = ?`, [
        nonce,
      ]);
      const row = rows[0];
      if (row === undefined) return 'unknown';
      if (integer(row.used) !== 0) return 'used';
      if (text(row.app_id) !== appId) return 'other-app';
      // Spent even when expired: a nonce is offered once.
      const { changes } = await tx.run(`UPDATE ${this.#t.nonce} SET used = 1 WHERE nonce = ? AND used = 0`, [
        nonce,
      ]);
      if (changes !== 1) return 'used';
      return integer(row.expires_at) <= now ? 'expired' : 'ok';
    });
  }

  async pruneNonces(now: number): Promise<void> {
    await this.#run('prune nonces', `DELETE FROM ${this.#t.nonce} WHERE expires_at < ?`, [now]);
  }

  async appendAudit(builds: readonly AuditBuilder[]) {
    return this.#tx('append audit', async (tx) => {
      if (tx.dialect === 'postgres') {
        await tx.run(`SELECT pg_advisory_xact_lock(hashtext(?))`, [this.#t.audit]);
      }
      const { rows } = await tx.run(`SELECT seq, hash FROM ${this.#t.audit} ORDER BY seq DESC LIMIT 1`);
      let head = rows[0] === undefined ? undefined : { seq: integer(rows[0].seq), hash: text(rows[0].hash) };
      const written: { seq: number; hash: string; entry: string }[] = [];
      for (const build of builds) {
        const next = await build(head);
        await tx.run(`INSERT INTO ${this.#t.audit} (seq, hash, entry) VALUES (?, ?, ?)`, [
          next.seq,
          next.hash,
          next.entry,
        ]);
        written.push(next);
        head = { seq: next.seq, hash: next.hash };
      }
      return written;
    });
  }

  async readAudit(from: number, limit: number): Promise<readonly string[]> {
    const { rows } = await this.#run(
      'read audit',
      `SELECT entry FROM ${this.#t.audit} WHERE seq >= ? ORDER BY seq LIMIT ?`,
      [from, limit],
    );
    return rows.map((row) => text(row.entry));
  }

  async sealed(appId: string, name: string): Promise<string | undefined> {
    const { rows } = await this.#run(
      'read sealed',
      `SELECT record FROM ${this.#t.sealed} WHERE app_id = ? AND name = ?`,
      [appId, name],
    );
    return rows[0] === undefined ? undefined : text(rows[0].record);
  }

  async updateSealed(
    appId: string,
    name: string,
    accept: (current: string | undefined) => string,
  ): Promise<string> {
    return this.#tx('write sealed', async (tx) => {
      if (tx.dialect === 'postgres') {
        await tx.run(`SELECT pg_advisory_xact_lock(hashtext(?))`, [`${this.#t.sealed}/${appId}/${name}`]);
      }
      const { rows } = await tx.run(`SELECT record FROM ${this.#t.sealed} WHERE app_id = ? AND name = ?`, [
        appId,
        name,
      ]);
      const current = rows[0] === undefined ? undefined : text(rows[0].record);
      const next = accept(current);
      if (current === undefined) {
        await tx.run(`INSERT INTO ${this.#t.sealed} (app_id, name, record) VALUES (?, ?, ?)`, [
          appId,
          name,
          next,
        ]);
      } else {
        await tx.run(`UPDATE ${this.#t.sealed} SET record = ? WHERE app_id = ? AND name = ?`, [
          next,
          appId,
          name,
        ]);
      }
      return next;
    });
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
