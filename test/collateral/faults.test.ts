/** Fault injection against the mock PCS/KDS: retries, clear errors, and nothing bad cached. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient, parseRetryAfter } from '../../src/collateral/http.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { PcsProvider } from '../../src/collateral/providers.js';
import { CollateralResolver } from '../../src/collateral/resolver.js';
import { VeriteeError } from '../../src/errors.js';
import { verify } from '../../src/verify.js';
import { DCAP_CASES } from './cases.js';
import { DCAP_DIR, type MockServer, pcsRoutes, startMock } from './mock-server.js';

let mock: MockServer;
const c = DCAP_CASES[1]!; // SGX 00A067110000, processor CA, 2025-07
const TCB = /\/sgx\/certification\/v4\/tcb\?/;
let sleeps: number[] = [];

beforeAll(async () => {
  mock = await startMock();
  for (const [path, body, headers] of pcsRoutes(c.vector, c.tee, c.fmspc, c.ca))
    mock.route(path, body, headers);
});
afterAll(async () => mock.close());
beforeEach(() => {
  sleeps = [];
});

function setup(options: { retries?: number; timeoutMs?: number; perHostConcurrency?: number } = {}) {
  const http = new HttpClient({
    retries: options.retries ?? 2,
    backoffMs: 5,
    timeoutMs: options.timeoutMs ?? 2000,
    perHostConcurrency: options.perHostConcurrency,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const store = new MemoryCollateralStore();
  const resolver = new CollateralResolver({ store, pcs: new PcsProvider(http, { url: mock.url }) });
  return { http, store, resolver };
}

const tcbRequests = (): number => mock.requests.filter((r) => TCB.test(r)).length;

async function verdict(resolver: CollateralResolver) {
  return verify(c.quote(), { at: c.at, collateralSource: resolver, policy: c.policy });
}

describe('HTTP faults', () => {
  it('500 twice, then the answer: retried with backoff, verified, stored', async () => {
    const { store, resolver } = setup();
    mock.inject(TCB, { kind: 'status', status: 500 }, 2);
    const before = tcbRequests();
    const result = await verdict(resolver);
    expect(result.errors).toEqual([]);
    expect(tcbRequests() - before).toBe(3);
    expect(sleeps.length).toBe(2);
    expect(await store.versions('intel.tcbInfo', 'sgx/00a067110000/standard')).toHaveLength(1);
  });

  it('429 with Retry-After: the wait asked for is honoured', async () => {
    const { resolver } = setup();
    mock.inject(TCB, { kind: 'status', status: 429, retryAfter: '3' }, 1);
    const result = await verdict(resolver);
    expect(result.errors).toEqual([]);
    expect(sleeps).toContain(3000);
  });

  it('a slow response times out and is retried', async () => {
    const { resolver } = setup({ timeoutMs: 400 });
    mock.inject(TCB, { kind: 'slow', ms: 3000 }, 1);
    const result = await verdict(resolver);
    expect(result.errors).toEqual([]);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
  });

  it('a truncated body is retried, never parsed', async () => {
    const { resolver } = setup();
    mock.inject(TCB, { kind: 'truncate' }, 1);
    const result = await verdict(resolver);
    expect(result.errors).toEqual([]);
    expect(sleeps.length).toBe(1);
  });

  it('retries exhausted: COLLATERAL_UNAVAILABLE naming the URL; nothing stored', async () => {
    const { store, resolver } = setup({ retries: 1 });
    mock.inject(TCB, { kind: 'status', status: 503 }, 2);
    const result = await verdict(resolver);
    expect(result.verdict).toBe('contraindicated');
    expect(result.errors[0]?.code).toBe('COLLATERAL_UNAVAILABLE');
    expect(result.errors[0]?.message).toMatch(/HTTP 503 after 2 attempts/);
    expect(await store.versions('intel.tcbInfo', 'sgx/00a067110000/standard')).toHaveLength(0);
  });

  it('404: NOT_FOUND, not retried', async () => {
    const { http } = setup();
    await expect(http.get(`${mock.url}/nothing-here`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(sleeps).toEqual([]);
  });

  it('a per-host concurrency limit holds', async () => {
    const { http } = setup({ perHostConcurrency: 2 });
    const path = pcsRoutes(c.vector, c.tee, c.fmspc, c.ca)[0]![0];
    const slow = await startMock();
    slow.route('/x', new Uint8Array([1]));
    for (let i = 0; i < 6; i++) slow.inject(/\/x/, { kind: 'slow', ms: 40 });
    await Promise.all(Array.from({ length: 6 }, () => http.get(`${slow.url}/x`)));
    expect(slow.maxInflight()).toBe(2);
    await slow.close();
    expect(path).toMatch(/fmspc=00A067110000/);
  });

  it('Retry-After: seconds or an HTTP date', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe('bad collateral is never cached', () => {
  const tcbFile = readFileSync(join(DCAP_DIR, c.vector, 'tcb_info.json'), 'utf8');

  it('a wrong signature: SIG_INVALID, nothing stored, and a later good fetch works', async () => {
    const { store, resolver } = setup();
    const signature = /"signature":"([0-9a-f])/.exec(tcbFile)!;
    const flipped = tcbFile.replace(signature[0], `"signature":"${signature[1] === '0' ? '1' : '0'}`);
    mock.inject(TCB, { kind: 'body', body: new TextEncoder().encode(flipped) }, 1);
    const bad = await verdict(resolver);
    expect(bad.errors[0]?.code).toBe('SIG_INVALID');
    expect(await store.versions('intel.tcbInfo', 'sgx/00a067110000/standard')).toHaveLength(0);
    const good = await verdict(resolver);
    expect(good.errors).toEqual([]);
  });

  it('an expired TCB Info (the 2023 one served in 2025): COLLATERAL_EXPIRED, nothing stored', async () => {
    const { store, resolver } = setup();
    const old = readFileSync(join(DCAP_DIR, 'sgx/dcapqvl-sgx-v3-00A067110000-2023-11', 'tcb_info.json'));
    mock.inject(TCB, { kind: 'body', body: new Uint8Array(old) }, 1);
    const result = await verdict(resolver);
    expect(result.errors[0]?.code).toBe('COLLATERAL_EXPIRED');
    expect(result.errors[0]?.message).toMatch(/intel\.tcbInfo/);
    expect(await store.versions('intel.tcbInfo', 'sgx/00a067110000/standard')).toHaveLength(0);
  });

  it('TCB Info for another FMSPC: COLLATERAL_MISMATCH, nothing stored', async () => {
    const { store, resolver } = setup();
    const other = readFileSync(join(DCAP_DIR, DCAP_CASES[0]!.vector, 'tcb_info.json'));
    const headers = pcsRoutes(DCAP_CASES[0]!.vector, 'tdx', 'b0c06f000000', 'platform')[0]![2];
    mock.inject(TCB, { kind: 'body', body: new Uint8Array(other), headers }, 1);
    const result = await verdict(resolver);
    expect(result.errors[0]?.code).toBe('COLLATERAL_MISMATCH');
    expect(await store.list()).not.toContainEqual(expect.objectContaining({ kind: 'intel.tcbInfo' }));
  });

  it('a body that is not collateral (truncated JSON with a matching length): a parse error, not cached', async () => {
    const { store, resolver } = setup();
    mock.inject(TCB, { kind: 'body', body: new TextEncoder().encode(tcbFile.slice(0, 200)) }, 1);
    const result = await verdict(resolver);
    expect(result.verified).toBe(false);
    expect(result.errors[0]?.code).toMatch(/^(PARSE_|COLLATERAL_)/);
    expect(await store.versions('intel.tcbInfo', 'sgx/00a067110000/standard')).toHaveLength(0);
  });

  it('a missing issuer-chain header: COLLATERAL_MISSING', async () => {
    const { resolver } = setup();
    mock.inject(TCB, { kind: 'body', body: new TextEncoder().encode(tcbFile), headers: {} }, 1);
    const result = await verdict(resolver);
    expect(result.errors[0]?.code).toBe('COLLATERAL_MISSING');
  });

  it('errors are VeriteeErrors', async () => {
    const { resolver } = setup({ retries: 0 });
    mock.inject(TCB, { kind: 'status', status: 500 }, 1);
    await expect(resolver.resolve(c.quote(), c.at)).rejects.toBeInstanceOf(VeriteeError);
  });
});
