/**
 * The resolver's warm path: collateral kept in memory per needs and span of verification times, dropped
 * when the store changes — at once for writes through the same handle, within `storeRecheckMs` (an
 * injected clock, no sleeps) for writes by another handle or process — and never served past its window.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHashOf, type RawItem, verifyItem } from '../../src/collateral/items.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { CollateralResolver, firstPemMarker, type ResolverEvent } from '../../src/collateral/resolver.js';
import { PostgresCollateralStore } from '../../src/collateral/store-postgres.js';
import { SqliteCollateralStore } from '../../src/collateral/store-sqlite.js';
import {
  type CollateralItem,
  type CollateralKind,
  type CollateralStore,
  pickValid,
  unchangedSpan,
} from '../../src/collateral/types.js';
import { verify } from '../../src/verify.js';
import { DCAP_CASES, type DcapCase } from './cases.js';
import { DCAP_DIR } from './mock-server.js';
import { PG_URL } from './pg.js';

const tmp = mkdtempSync(join(tmpdir(), 'veritee-warm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tdx = DCAP_CASES[0]!;
const sgx = DCAP_CASES[1]!;

/** The four DCAP items of a vector, verified at its time as a fetch would. */
async function dcapItems(c: DcapCase): Promise<CollateralItem[]> {
  const dir = join(DCAP_DIR, c.vector);
  const raw = (kind: CollateralKind, key: string, file: string, chainFile?: string): RawItem => ({
    kind,
    key,
    body: new Uint8Array(readFileSync(join(dir, file))),
    issuerChain: chainFile === undefined ? undefined : readFileSync(join(dir, chainFile), 'utf8'),
    source: 'test',
    fetchedAt: c.at,
  });
  return Promise.all([
    verifyItem(
      raw('intel.tcbInfo', `${c.tee}/${c.fmspc}/standard`, 'tcb_info.json', 'tcb_info_issuer_chain.pem'),
      c.at,
    ),
    verifyItem(
      raw('intel.qeIdentity', `${c.tee}/standard`, 'qe_identity.json', 'qe_identity_issuer_chain.pem'),
      c.at,
    ),
    verifyItem(raw('intel.pckCrl', c.ca, 'pck_crl.der', 'pck_crl_issuer_chain.pem'), c.at),
    verifyItem(raw('intel.rootCaCrl', 'root', 'root_ca_crl.der'), c.at),
  ]);
}

/**
 * A second version of an item that the store holds as issued one second later: the same signed content
 * with a trailing newline on its issuer chain (so another content hash), which verifies just the same.
 */
function laterVersion(item: CollateralItem): CollateralItem {
  const issuerChain = `${item.issuerChain ?? ''}\n`;
  return {
    ...item,
    issuerChain,
    contentHash: contentHashOf(item.body, issuerChain),
    notBefore: new Date(item.notBefore.getTime() + 1000),
  };
}

/** Wraps a store, counting version reads and change checks; `beforeRead` can hold a read. */
function counting(inner: CollateralStore) {
  const counts = { reads: 0, externalChecks: 0 };
  const hooks: { beforeRead?: () => Promise<void> } = {};
  const store: CollateralStore = {
    versions: async (kind, key) => {
      counts.reads++;
      await hooks.beforeRead?.();
      return inner.versions(kind, key);
    },
    byHash: (hash) => inner.byHash(hash),
    put: (item) => inner.put(item),
    list: () => inner.list(),
    close: () => inner.close(),
    ...(inner.localChanges === undefined ? {} : { localChanges: () => inner.localChanges!() }),
    ...(inner.externalChanges === undefined
      ? {}
      : {
          externalChanges: () => {
            counts.externalChecks++;
            return inner.externalChanges!();
          },
        }),
  };
  return { store, counts, hooks };
}

/** An offline resolver with an injected clock and a log of its events. */
function offlineResolver(store: CollateralStore, options: { storeRecheckMs?: number } = {}) {
  const clock = { now: 0 };
  const events: ResolverEvent[] = [];
  const resolver = new CollateralResolver({
    store,
    offline: true,
    clock: () => clock.now,
    onEvent: (event) => events.push(event),
    ...options,
  });
  /** The content hash each resolution used for `kind`, from its last hit event. */
  const usedHash = (kind: CollateralKind): string | undefined =>
    events.findLast((event) => event.kind === kind && event.type === 'hit')?.detail;
  return { resolver, clock, events, usedHash };
}

describe('warm resolution', () => {
  it('reads nothing from the store and hands on the same object, for any quote of the platform', async () => {
    const { store, counts } = counting(new MemoryCollateralStore());
    for (const item of await dcapItems(tdx)) await store.put(item);
    const { resolver } = offlineResolver(store);
    const first = await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(4);
    // Another quote of the same platform: its body (report data) differs, its PCK chain does not.
    const other = tdx.quote();
    const reportData = 48 + 520; // [TDX-QL] TD Quote Body: REPORTDATA at offset 520
    other[reportData] = other[reportData]! ^ 0xff;
    expect(await resolver.resolve(other, tdx.at)).toBe(first);
    expect(await resolver.resolve(tdx.quote(), new Date(tdx.at.getTime() - 60_000))).toBe(first);
    expect(counts.reads).toBe(4);
    const result = await verify(tdx.quote(), {
      at: tdx.at,
      collateralSource: resolver,
      policy: tdx.policy,
    });
    expect(result.errors).toEqual([]);
    expect(result.verified).toBe(true);
    expect(counts.reads).toBe(4);
  });

  it('serves no item past its window: a later `at` reads the store, and verification sees the expiry', async () => {
    const { store, counts } = counting(new MemoryCollateralStore());
    const items = await dcapItems(tdx);
    for (const item of items) await store.put(item);
    const { resolver, events } = offlineResolver(store);
    await resolver.resolve(tdx.quote(), tdx.at);
    // The vector's time is one second before its PCK CRL's nextUpdate, the first of the four to pass.
    const first = items.reduce((a, b) => (b.notAfter < a.notAfter ? b : a));
    expect(first.kind).toBe('intel.pckCrl');
    await resolver.resolve(tdx.quote(), first.notAfter); // windows include their end
    expect(counts.reads).toBe(4);
    const past = new Date(first.notAfter.getTime() + 1);
    const late = await verify(tdx.quote(), { at: past, collateralSource: resolver, policy: tdx.policy });
    expect(counts.reads).toBe(8);
    expect(events.filter((event) => event.type === 'stale').map((event) => event.kind)).toEqual([
      'intel.pckCrl',
    ]);
    expect(late.verified).toBe(false);
    expect(late.errors.map((error) => error.code)).toContain('CRL_EXPIRED');
    // Both spans are kept: back at the original time and again past the window, nothing is read.
    await resolver.resolve(tdx.quote(), tdx.at);
    await resolver.resolve(tdx.quote(), new Date(past.getTime() + 1000)); // before the next item expires
    expect(counts.reads).toBe(8);
  });

  it('sees a write through the same store handle at once', async () => {
    const { store, counts } = counting(new MemoryCollateralStore());
    const items = await dcapItems(tdx);
    for (const item of items) await store.put(item);
    const { resolver, usedHash } = offlineResolver(store);
    const before = await resolver.resolve(tdx.quote(), tdx.at);
    expect(usedHash('intel.tcbInfo')).toBe(items[0]!.contentHash);
    const newer = laterVersion(items[0]!);
    await store.put(newer);
    const after = await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(8);
    expect(usedHash('intel.tcbInfo')).toBe(newer.contentHash);
    expect(after).not.toBe(before);
    const result = await verify(tdx.quote(), { at: tdx.at, collateralSource: resolver, policy: tdx.policy });
    expect(result.verified).toBe(true);
  });

  it('does not keep a resolution during which the store changed', async () => {
    const { store, counts, hooks } = counting(new MemoryCollateralStore());
    const items = await dcapItems(tdx);
    for (const item of items) await store.put(item);
    const { resolver } = offlineResolver(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    hooks.beforeRead = () => held;
    const pending = resolver.resolve(tdx.quote(), tdx.at);
    await store.put(laterVersion(items[0]!));
    hooks.beforeRead = undefined;
    release();
    await pending;
    await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(8);
    await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(8);
  });

  it('reads a store without change tracking on every resolution', async () => {
    const memory = new MemoryCollateralStore();
    for (const item of await dcapItems(tdx)) await memory.put(item);
    const { store, counts } = counting({
      versions: (kind, key) => memory.versions(kind, key),
      byHash: (hash) => memory.byHash(hash),
      put: (item) => memory.put(item),
      list: () => memory.list(),
      close: () => memory.close(),
    });
    const { resolver } = offlineResolver(store);
    await resolver.resolve(tdx.quote(), tdx.at);
    await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(8);
  });

  it('finds each platform its own collateral, also for quotes whose tail does not key them', async () => {
    const store = new MemoryCollateralStore();
    for (const item of [...(await dcapItems(tdx)), ...(await dcapItems(sgx))]) await store.put(item);
    const { resolver } = offlineResolver(store);
    for (const c of [tdx, sgx, tdx]) {
      const result = await verify(c.quote(), { at: c.at, collateralSource: resolver, policy: c.policy });
      expect(result.errors, c.vector).toEqual([]);
    }
    const tdxCollateral = await resolver.resolve(tdx.quote(), tdx.at);
    expect(await resolver.resolve(sgx.quote(), sgx.at)).not.toBe(tdxCollateral);
    // A PEM marker in the report data moves the tail's start into the body: still the right collateral.
    const marked = tdx.quote();
    marked.set(new TextEncoder().encode('-----BEGIN CERTIFICATE-----'), 48 + 520);
    expect(firstPemMarker(marked)).toBe(48 + 520);
    expect(await resolver.resolve(marked, tdx.at)).toBe(tdxCollateral);
    // A tail that is not UTF-8 (a byte after the chain) is parsed in full.
    const trailing = new Uint8Array([...tdx.quote(), 0xff]);
    expect(await resolver.resolve(trailing, tdx.at)).toBe(tdxCollateral);
  });

  it('rejects a bad storeRecheckMs and a bad verification time with ARGUMENT_INVALID', async () => {
    const store = new MemoryCollateralStore();
    for (const storeRecheckMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new CollateralResolver({ store, storeRecheckMs })).toThrow(
        expect.objectContaining({ code: 'ARGUMENT_INVALID' }),
      );
    }
    await expect(
      new CollateralResolver({ store }).resolve(tdx.quote(), new Date(Number.NaN)),
    ).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
  });
});

describe('writes by other handles and processes', () => {
  it('SQLite: another handle’s write and delete are seen within storeRecheckMs, not before', async () => {
    const path = join(tmp, 'shared.sqlite');
    const items = await dcapItems(tdx);
    const mine = new SqliteCollateralStore(path);
    for (const item of items) await mine.put(item);
    const { store, counts } = counting(mine);
    const { resolver, clock, usedHash } = offlineResolver(store, { storeRecheckMs: 1000 });
    await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(4);

    const theirs = new SqliteCollateralStore(path);
    const newer = laterVersion(items[0]!);
    await theirs.put(newer);
    clock.now = 999;
    await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(4); // within the bound: kept, the change not asked about yet
    expect(usedHash('intel.tcbInfo')).toBe(items[0]!.contentHash);
    clock.now = 1000;
    await resolver.resolve(tdx.quote(), tdx.at);
    expect(counts.reads).toBe(8);
    expect(usedHash('intel.tcbInfo')).toBe(newer.contentHash);

    // Another process deletes every TCB Info: not served once the bound has passed.
    const other = new Database(path);
    other.prepare("DELETE FROM veritee_collateral WHERE kind = 'intel.tcbInfo'").run();
    other.close();
    clock.now = 1999;
    await resolver.resolve(tdx.quote(), tdx.at);
    clock.now = 2000;
    await expect(resolver.resolve(tdx.quote(), tdx.at)).rejects.toMatchObject({
      code: 'COLLATERAL_UNAVAILABLE',
    });
    await theirs.close();
    await mine.close();
  });

  it('storeRecheckMs 0 asks on every resolution; a clock that goes back asks again', async () => {
    const mine = new SqliteCollateralStore(join(tmp, 'every.sqlite'));
    for (const item of await dcapItems(tdx)) await mine.put(item);
    const always = counting(mine);
    const { resolver } = offlineResolver(always.store, { storeRecheckMs: 0 });
    for (let i = 0; i < 3; i++) await resolver.resolve(tdx.quote(), tdx.at);
    expect(always.counts.externalChecks).toBe(3);
    expect(always.counts.reads).toBe(4);

    const bounded = counting(mine);
    const second = offlineResolver(bounded.store, { storeRecheckMs: 1000 });
    second.clock.now = 5000;
    await second.resolver.resolve(tdx.quote(), tdx.at);
    second.clock.now = 5500;
    await second.resolver.resolve(tdx.quote(), tdx.at);
    expect(bounded.counts.externalChecks).toBe(1);
    second.clock.now = 4000;
    await second.resolver.resolve(tdx.quote(), tdx.at);
    expect(bounded.counts.externalChecks).toBe(2);
    await mine.close();
  });

  describe.skipIf(PG_URL === undefined)('PostgreSQL', () => {
    it('another client’s write and delete are seen within storeRecheckMs, not before', async () => {
      const table = `veritee_collateral_warm_${process.pid}`;
      const items = await dcapItems(tdx);
      const mine = new PostgresCollateralStore(PG_URL!, { table });
      await mine.drop();
      for (const item of items) await mine.put(item);
      const { store, counts } = counting(mine);
      const { resolver, clock, usedHash } = offlineResolver(store, { storeRecheckMs: 1000 });
      await resolver.resolve(tdx.quote(), tdx.at);

      const theirs = new PostgresCollateralStore(PG_URL!, { table });
      const newer = laterVersion(items[0]!);
      await theirs.put(newer);
      clock.now = 999;
      await resolver.resolve(tdx.quote(), tdx.at);
      expect(counts.reads).toBe(4);
      clock.now = 1000;
      await resolver.resolve(tdx.quote(), tdx.at);
      expect(counts.reads).toBe(8);
      expect(usedHash('intel.tcbInfo')).toBe(newer.contentHash);

      // A plain SQL client (no veritee) deletes the TCB Infos: the trigger counts it.
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DELETE FROM ${table} WHERE kind = 'intel.tcbInfo'`);
      await client.end();
      clock.now = 1999;
      await resolver.resolve(tdx.quote(), tdx.at);
      clock.now = 2000;
      await expect(resolver.resolve(tdx.quote(), tdx.at)).rejects.toMatchObject({
        code: 'COLLATERAL_UNAVAILABLE',
      });
      await theirs.close();
      await mine.drop();
      await mine.close();
    });
  });
});

describe('helpers', () => {
  it('firstPemMarker finds the first marker, as a plain search does', () => {
    const marker = '-----BEGIN CERTIFICATE-----';
    const alphabet = ['-', '-', '-', '-----', 'B', 'x', marker, `-${marker}`, '\u0000'];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const parts = Array.from({ length: next(12) }, () => alphabet[next(alphabet.length)]!);
      const text = parts.join('');
      expect(firstPemMarker(new TextEncoder().encode(text)), JSON.stringify(text)).toBe(text.indexOf(marker));
    }
  });

  it('unchangedSpan: pickValid gives the same answer everywhere inside the span', () => {
    let seed = 11;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const items = Array.from({ length: next(4) }, (_, i): CollateralItem => {
        const from = next(40);
        return {
          kind: 'intel.tcbInfo',
          key: 'k',
          body: new Uint8Array([i]),
          contentHash: String(i),
          notBefore: new Date(from),
          notAfter: new Date(from + next(20)),
          fetchedAt: new Date(0),
          source: 'test',
        };
      });
      for (let t = -2; t < 64; t++) {
        const span = unchangedSpan(items, new Date(t));
        if (!(span.from <= t && t < span.until)) expect.fail(`t=${t} outside ${span.from}..${span.until}`);
        const answer = pickValid(items, new Date(t));
        for (let u = Math.max(span.from, -5); u < Math.min(span.until, 70); u++) {
          if (pickValid(items, new Date(u)) !== answer)
            expect.fail(`t=${t} u=${u} span ${span.from}..${span.until}`);
        }
      }
    }
  });
});
