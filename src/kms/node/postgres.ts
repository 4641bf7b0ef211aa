/**
 * PostgreSQL driver for the KMS store (pg): a small pool; `?` placeholders renumbered to `$n`;
 * transactions on one pooled client. Several nodes may share one database under different namespaces.
 */
import pg from 'pg';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { SqlDriver } from '../store.js';

function numbered(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

type Queryable = Pick<pg.PoolClient, 'query'>;

function driverOn(client: Queryable): Omit<SqlDriver, 'transaction' | 'close'> {
  return {
    dialect: 'postgres',
    run: async (sql, params = []) => {
      const result = await client.query(numbered(sql), params as unknown[]);
      return { rows: result.rows as Record<string, unknown>[], changes: result.rowCount ?? 0 };
    },
  };
}

export function openPostgres(url: string, poolSize = 4): SqlDriver {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'PostgreSQL store must be a postgres:// URL');
  }
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client's error (server restart) must not crash the node; the next query reports it.
  pool.on('error', () => {});
  const base = driverOn(pool);
  return {
    ...base,
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const inner: SqlDriver = {
          ...driverOn(client),
          transaction: () => {
            throw new VeriteeError(ErrorCode.KMS_STORE_FAILED, 'nested transactions are not supported');
          },
          close: async () => {},
        };
        const result = await fn(inner);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
