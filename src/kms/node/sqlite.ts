/**
 * SQLite driver for the KMS store (better-sqlite3): WAL journal, synchronous=FULL (every commit is
 * fsynced), a busy timeout, and one async mutex so a transaction's statements never interleave with
 * another request's.
 */
import Database from 'better-sqlite3';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { SqlDriver, SqlResult } from '../store.js';

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Statements prepared once per connection: the store's SQL is a fixed set of strings. */
const MAX_CACHED_STATEMENTS = 256;

function preparedOn(db: Database.Database, cache: Map<string, Database.Statement>, sql: string) {
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
    cache.set(sql, statement);
  }
  return statement;
}

function runOn(
  db: Database.Database,
  cache: Map<string, Database.Statement>,
  sql: string,
  params: readonly unknown[],
): SqlResult {
  const statement = preparedOn(db, cache, sql);
  if (statement.reader) return { rows: statement.all(...params) as Record<string, unknown>[], changes: 0 };
  const info = statement.run(...params);
  return { rows: [], changes: info.changes };
}

export function openSqlite(path: string): SqlDriver {
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw new VeriteeError(ErrorCode.KMS_STORE_FAILED, `cannot open SQLite store ${path}`, {
      details: (error as { code?: string }).code,
      cause: error,
    });
  }
  const mutex = new Mutex();
  const statements = new Map<string, Database.Statement>();
  const inner: SqlDriver = {
    dialect: 'sqlite',
    run: async (sql, params = []) => runOn(db, statements, sql, params),
    transaction: () => {
      throw new VeriteeError(ErrorCode.KMS_STORE_FAILED, 'nested transactions are not supported');
    },
    close: async () => {},
  };
  return {
    dialect: 'sqlite',
    run: (sql, params = []) => mutex.lock(async () => runOn(db, statements, sql, params)),
    transaction: (fn) =>
      mutex.lock(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(inner);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    close: () =>
      mutex.lock(async () => {
        if (db.open) db.close();
      }),
  };
}
