/** One store contract, run against every backend: memory, SQLite (file), PostgreSQL (real server). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHashOf } from '../../src/collateral/items.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { describeStore, openStore } from '../../src/collateral/store-open.js';
import { PostgresCollateralStore } from '../../src/collateral/store-postgres.js';
import { SqliteCollateralStore } from '../../src/collateral/store-sqlite.js';
import { type CollateralItem, type CollateralStore, pickValid } from '../../src/collateral/types.js';
import { PG_URL } from './pg.js';

const tmp = mkdtempSync(join(tmpdir(), 'veritee-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function item(
  key: string,
  from: string,
  until: string,
  body: number[],
  kind: CollateralItem['kind'] = 'intel.tcbInfo',
): CollateralItem {
  const bytes = new Uint8Array(body);
  const chain = kind.startsWith('intel.')
    ? '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'
    : undefined;
  return {
    kind,
    key,
    body: bytes,
    issuerChain: chain,
    contentHash: contentHashOf(bytes, chain),
    notBefore: new Date(from),
    notAfter: new Date(until),
    fetchedAt: new Date('2025-07-01T00:00:00Z'),
    source: 'http://127.0.0.1/test',
  };
}

interface Backend {
  readonly name: string;
  readonly skip: boolean;
  open(): Promise<CollateralStore>;
  /** A second handle on the same data (persistence), when the backend has one. */
  reopen?(): Promise<CollateralStore>;
}

let pgTable = 0;
const pgTableName = `veritee_collateral_test_${process.pid}`;
const backends: Backend[] = [
  { name: 'memory', skip: false, open: async () => new MemoryCollateralStore() },
  {
    name: 'sqlite',
    skip: false,
    open: async () => new SqliteCollateralStore(join(tmp, `s${pgTable++}.sqlite`)),
    reopen: async () => new SqliteCollateralStore(join(tmp, `s${pgTable - 1}.sqlite`)),
  },
  {
    name: 'postgres',
    skip: PG_URL === undefined,
    open: async () => {
      const store = new PostgresCollateralStore(PG_URL!, { table: `${pgTableName}_${pgTable++}` });
      await store.drop();
      return store;
    },
    reopen: async () => new PostgresCollateralStore(PG_URL!, { table: `${pgTableName}_${pgTable - 1}` }),
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`collateral store: ${backend.name}`, () => {
    it('holds versions per key, newest first, with byte-exact bodies and dates', async () => {
      const store = await backend.open();
      const old = item(
        'sgx/00a067110000/standard',
        '2025-06-01T00:00:00Z',
        '2025-07-01T00:00:00Z',
        [1, 2, 0, 255],
      );
      const fresh = item('sgx/00a067110000/standard', '2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z', [3]);
      const other = item('tdx/00806f050000/standard', '2025-06-01T00:00:00Z', '2025-08-01T00:00:00Z', [4]);
      await store.put(old);
      await store.put(fresh);
      await store.put(other);
      const versions = await store.versions('intel.tcbInfo', 'sgx/00a067110000/standard');
      expect(versions.map((v) => v.contentHash)).toEqual([fresh.contentHash, old.contentHash]);
      expect(versions[1]).toEqual(old);
      expect(await store.byHash(other.contentHash)).toEqual(other);
      expect(await store.byHash('0'.repeat(64))).toBeUndefined();
      expect(pickValid(versions, new Date('2025-06-15T00:00:00Z'))?.contentHash).toBe(old.contentHash);
      expect(pickValid(versions, new Date('2025-07-15T00:00:00Z'))?.contentHash).toBe(fresh.contentHash);
      expect(pickValid(versions, new Date('2025-09-01T00:00:00Z'))).toBeUndefined();
      await store.close();
    });

    it('a second put of the same content is a no-op; concurrent puts do not fail', async () => {
      const store = await backend.open();
      const a = item('platform', '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z', [9, 9], 'intel.pckCrl');
      await Promise.all(Array.from({ length: 8 }, () => store.put(a)));
      await store.put({ ...a, source: 'elsewhere' });
      const all = await store.list();
      expect(all).toHaveLength(1);
      expect(all[0]?.source).toBe('http://127.0.0.1/test');
      await store.close();
    });

    it('lists by kind and key; items without an issuer chain round-trip', async () => {
      const store = await backend.open();
      const vcek = item(
        'Milan/aa/0300000000000873',
        '2023-01-01T00:00:00Z',
        '2030-01-01T00:00:00Z',
        [7],
        'amd.vcek',
      );
      const chain = item('Milan/vcek', '2020-01-01T00:00:00Z', '2045-01-01T00:00:00Z', [8], 'amd.chain');
      await store.put(vcek);
      await store.put(chain);
      const listed = await store.list();
      expect(listed.map((i) => i.kind)).toEqual(['amd.chain', 'amd.vcek']);
      expect(listed[1]?.issuerChain).toBeUndefined();
      await store.close();
    });

    it('counts its own writes at once, and not a repeated put (change tracking)', async () => {
      const store = await backend.open();
      const before = store.localChanges?.();
      expect(before).toBeTypeOf('number');
      const a = item('platform', '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z', [6], 'intel.pckCrl');
      await store.put(a);
      const after = store.localChanges!();
      expect(after).not.toBe(before);
      await store.put(a);
      expect(store.localChanges!()).toBe(after);
      await store.close();
    });

    if (backend.reopen !== undefined) {
      it('tells of another handle’s writes through externalChanges', async () => {
        const store = await backend.open();
        const other = await backend.reopen!();
        const before = await store.externalChanges!();
        expect(await store.externalChanges!()).toBe(before);
        await other.put(item('root', '2025-06-01T00:00:00Z', '2026-06-01T00:00:00Z', [4], 'intel.rootCaCrl'));
        expect(await store.externalChanges!()).not.toBe(before);
        await other.close();
        if (store instanceof PostgresCollateralStore) await store.drop();
        await store.close();
      });

      it('persists across handles', async () => {
        const store = await backend.open();
        const a = item('root', '2025-06-01T00:00:00Z', '2026-06-01T00:00:00Z', [5, 5, 5], 'intel.rootCaCrl');
        await store.put(a);
        await store.close();
        const again = await backend.reopen!();
        expect(await again.versions('intel.rootCaCrl', 'root')).toEqual([a]);
        if (again instanceof PostgresCollateralStore) await again.drop();
        await again.close();
      });
    }
  });
}

describe('openStore', () => {
  it('opens SQLite for a path and PostgreSQL for a URL; hides passwords when printing', async () => {
    const store = openStore(join(tmp, 'nested', 'dir', 'c.sqlite'));
    expect(store).toBeInstanceOf(SqliteCollateralStore);
    await store.close();
    expect(openStore('postgres://u:secret@127.0.0.1:1/x')).toBeInstanceOf(PostgresCollateralStore);
    expect(describeStore('postgres://u:secret@127.0.0.1:1/x')).not.toContain('secret');
  });
  it('an unreachable PostgreSQL server is COLLATERAL_UNAVAILABLE, not a crash', async () => {
    const store = new PostgresCollateralStore('postgres://postgres@127.0.0.1:1/none');
    await expect(store.list()).rejects.toMatchObject({ code: 'COLLATERAL_UNAVAILABLE' });
    await store.close();
  });
});
