/**
 * The verifier service relays collateral to browsers: GET /v1/collateral answers a bundle from the store,
 * and the client verifies what it receives (importBundle into its own memory store) before using it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBundle } from '../../src/collateral/bundle.js';
import { HttpClient } from '../../src/collateral/http.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { PcsProvider } from '../../src/collateral/providers.js';
import { CollateralResolver } from '../../src/collateral/resolver.js';
import { createVerifierApp } from '../../src/server/app.js';
import { verify } from '../../src/verify.js';
import { DCAP_CASES } from './cases.js';
import { type MockServer, pcsRoutes, startMock } from './mock-server.js';

const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const tdx = DCAP_CASES[0]!;
let mock: MockServer;
const serverStore = new MemoryCollateralStore();

beforeAll(async () => {
  mock = await startMock();
  for (const [path, body, headers] of pcsRoutes(tdx.vector, tdx.tee, tdx.fmspc, tdx.ca))
    mock.route(path, body, headers);
  const pcs = new PcsProvider(new HttpClient({ retries: 1 }), { url: mock.url });
  await new CollateralResolver({ store: serverStore, pcs }).resolve(tdx.quote(), tdx.at);
});
afterAll(async () => mock.close());

describe('GET /v1/collateral', () => {
  const { app } = createVerifierApp({ signingKey, collateralStore: serverStore });

  it('relays a bundle that the browser verifies and then verifies the quote with, offline', async () => {
    const response = await app.request('/v1/collateral');
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const browserStore = new MemoryCollateralStore();
    expect(await importBundle(browserStore, bytes, { at: tdx.at })).toEqual({
      imported: 4,
      alreadyPresent: 0,
    });
    const result = await verify(tdx.quote(), {
      at: tdx.at,
      policy: tdx.policy,
      collateralSource: new CollateralResolver({ store: browserStore, offline: true }),
    });
    expect(result.tcb?.status).toBe('UpToDate');
  });

  it('selects by kind and key; unknown kinds are 400, nothing is 404', async () => {
    const one = await app.request('/v1/collateral?kind=intel.tcbInfo&key=tdx/b0c06f000000/standard');
    expect(JSON.parse(await one.text()).items).toHaveLength(1);
    expect((await app.request('/v1/collateral?kind=nope')).status).toBe(400);
    expect((await app.request('/v1/collateral?kind=amd.vcek')).status).toBe(404);
  });

  it('a relay that altered the collateral is caught by the client', async () => {
    const response = await app.request('/v1/collateral?kind=intel.tcbInfo');
    const bundle = JSON.parse(await response.text());
    bundle.items[0].notAfter = '2099-01-01T00:00:00.000Z'; // dates are re-derived from signed content
    const store = new MemoryCollateralStore();
    await importBundle(store, new TextEncoder().encode(JSON.stringify(bundle)), { at: tdx.at });
    expect((await store.list())[0]?.notAfter.getUTCFullYear()).toBe(2025);
  });

  it('without a store the route does not exist', async () => {
    const plain = createVerifierApp({ signingKey }).app;
    expect((await plain.request('/v1/collateral')).status).toBe(404);
  });
});
