import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/collateral/http.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { KdsProvider, PcsProvider } from '../../src/collateral/providers.js';
import { CollateralResolver } from '../../src/collateral/resolver.js';
import type { CollateralItem, CollateralKind, CollateralStore } from '../../src/collateral/types.js';
import { loadPolicy, verify } from '../../src/verify.js';
import { DCAP_CASES, SNP_CASES } from './cases.js';
import { kdsRoutes, type MockServer, pcsRoutes, startMock } from './mock-server.js';

let mock: MockServer;
const DEBUG_OK = loadPolicy({ allowDebug: true });

beforeAll(async () => {
  mock = await startMock();
  for (const c of DCAP_CASES)
    for (const [path, body, headers] of pcsRoutes(c.vector, c.tee, c.fmspc, c.ca))
      mock.route(path, body, headers);
  for (const c of SNP_CASES)
    for (const [path, body, headers] of kdsRoutes(c.vector, c.product, c.vcekPath, c.vcekFile))
      mock.route(path, body, headers);
});
afterAll(async () => mock.close());

/** A memory store that counts version reads. */
class CountingStore extends MemoryCollateralStore {
  reads = 0;
  override async versions(kind: CollateralKind, key: string): Promise<readonly CollateralItem[]> {
    this.reads++;
    return super.versions(kind, key);
  }
}

function resolver(store: CollateralStore = new MemoryCollateralStore(), offline = false): CollateralResolver {
  const http = new HttpClient({ retries: 2, backoffMs: 1, timeoutMs: 2000 });
  return new CollateralResolver({
    store,
    pcs: new PcsProvider(http, { url: mock.url }),
    kds: new KdsProvider(http, { url: mock.url }),
    offline,
  });
}

describe('the resolver fetches, verifies and stores real collateral', () => {
  for (const c of DCAP_CASES) {
    it(`${c.vector}: fetched from the mock PCS, then offline from the store`, async () => {
      const store = new MemoryCollateralStore();
      const online = await verify(c.quote(), {
        at: c.at,
        collateralSource: resolver(store),
        policy: c.policy,
      });
      expect(online.errors).toEqual([]);
      expect(online.tcb?.status).toBe(c.status);
      expect((await store.list()).map((item) => item.kind).sort()).toEqual([
        'intel.pckCrl',
        'intel.qeIdentity',
        'intel.rootCaCrl',
        'intel.tcbInfo',
      ]);
      const before = mock.requests.length;
      const offline = await verify(c.quote(), {
        at: c.at,
        collateralSource: resolver(store, true),
        policy: c.policy,
      });
      expect(mock.requests.length).toBe(before);
      expect(offline.verdict).toBe(online.verdict);
      expect(offline.tcb).toEqual(online.tcb);
    });
  }
  for (const c of SNP_CASES) {
    it(`${c.vector}: VCEK and chain from the mock KDS, then offline`, async () => {
      const store = new MemoryCollateralStore();
      const online = await verify(c.report(), {
        at: c.at,
        collateralSource: resolver(store),
        policy: DEBUG_OK,
      });
      expect(online.errors).toEqual([]);
      expect(online.verified).toBe(true);
      expect((await store.list()).map((item) => item.kind).sort()).toEqual(['amd.chain', 'amd.vcek']);
      const offline = await verify(c.report(), {
        at: c.at,
        collateralSource: resolver(store, true),
        policy: DEBUG_OK,
      });
      expect(offline.verdict).toBe(online.verdict);
      // Warm: a second verification through the same resolver reads nothing from the store.
      const counted = new CountingStore();
      for (const item of await store.list()) await counted.put(item);
      const warm = resolver(counted, true);
      await verify(c.report(), { at: c.at, collateralSource: warm, policy: DEBUG_OK });
      const reads = counted.reads;
      expect(reads).toBeGreaterThan(0);
      const again = await verify(c.report(), { at: c.at, collateralSource: warm, policy: DEBUG_OK });
      expect(counted.reads).toBe(reads);
      expect(again.verdict).toBe(online.verdict);
    });
  }
  it('offline with an empty store: COLLATERAL_UNAVAILABLE, nothing fetched', async () => {
    const c = DCAP_CASES[0]!;
    const before = mock.requests.length;
    const result = await verify(c.quote(), {
      at: c.at,
      collateralSource: resolver(new MemoryCollateralStore(), true),
    });
    expect(result.errors[0]?.code).toBe('COLLATERAL_UNAVAILABLE');
    expect(mock.requests.length).toBe(before);
  });
  it('an explicit policy object loads', () => {
    expect(loadPolicy({})).toBeDefined();
  });
});
