/**
 * Node-only: opens the store named by `--store` / `VERITEE_STORE`: a `postgres://` or `postgresql://` URL,
 * or a SQLite file path (`:memory:` for none). Default: `~/.cache/veritee/collateral.sqlite`.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PostgresCollateralStore } from './store-postgres.js';
import { SqliteCollateralStore } from './store-sqlite.js';
import type { CollateralStore } from './types.js';

export function defaultStorePath(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'veritee', 'collateral.sqlite');
}

export function openStore(spec: string | undefined): CollateralStore {
  const target = spec === undefined || spec === '' ? defaultStorePath() : spec;
  if (/^postgres(ql)?:\/\//i.test(target)) return new PostgresCollateralStore(target);
  if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
  return new SqliteCollateralStore(target);
}

/** A store spec safe to print (a URL's password removed). */
export function describeStore(spec: string): string {
  try {
    if (/^postgres(ql)?:\/\//i.test(spec)) {
      const url = new URL(spec);
      if (url.password !== '') url.password = '***';
      return url.toString();
    }
  } catch {
    return 'postgres://…';
  }
  return spec;
}
