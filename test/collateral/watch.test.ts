/**
 * `veritee watch` over a simulated clock: a deployment's status is emitted once per change — when its
 * collateral expires, when a newer TCB Info downgrades it, when missing collateral arrives — with its
 * expiry date and its verdict under Intel's `early` TCB evaluation data; the CLI posts each change to a
 * webhook (loopback only).
 *
 * Real Intel TCB Infos cannot be re-signed, so the downgrade runs on the simulator's Intel-shaped PKI
 * (a simulated TDX platform and its signed collateral), injected as the trust anchor.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { HttpClient } from '../../src/collateral/http.js';
import { verifyItem } from '../../src/collateral/items.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { PcsProvider } from '../../src/collateral/providers.js';
import { CollateralResolver } from '../../src/collateral/resolver.js';
import { type WatchEvent, Watcher, type WatchNotice } from '../../src/collateral/watch.js';
import { defaultSimulatedTdMeasurements } from '../../src/runtime/providers/sim.js';
import { simulatorAnchors } from '../../src/runtime/sim/store.js';
import { SimulatedTdx } from '../../src/runtime/sim/tdx.js';
import { loadSimulatedIntelPki, SIM_FMSPC } from '../../src/runtime/sim/tdx-pki.js';
import { loadPolicy } from '../../src/verify.js';
import { runCli } from '../helpers/cli.js';
import { DCAP_CASES } from './cases.js';
import { DCAP_DIR, type MockServer, pcsRoutes, pcsRoutesOf, startMock } from './mock-server.js';

let mock: MockServer;
const tdx = DCAP_CASES[0]!;
const policy = tdx.policy;
const tmp = mkdtempSync(join(tmpdir(), 'veritee-watch-'));

beforeAll(async () => {
  mock = await startMock();
  for (const update of ['standard', 'early']) {
    for (const [path, body, headers] of pcsRoutes(tdx.vector, tdx.tee, tdx.fmspc, tdx.ca, update))
      mock.route(path, body, headers);
  }
  mock.route('/evidence', tdx.quote());
});
afterAll(async () => mock.close());

function resolvers(store = new MemoryCollateralStore(), offline = false) {
  const http = new HttpClient({ retries: 0, timeoutMs: 2000 });
  const pcs = new PcsProvider(http, { url: mock.url });
  return {
    store,
    standard: new CollateralResolver({ store, pcs, offline }),
    early: new CollateralResolver({ store, pcs, offline, update: 'early' }),
  };
}

describe('Watcher over a simulated clock', () => {
  it('affirming, then contraindicated when the collateral expires — each emitted once', async () => {
    let now = tdx.at;
    const events: WatchEvent[] = [];
    const { standard, early, store } = resolvers();
    const watcher = new Watcher({
      deployments: [{ name: 'tdx-api', evidence: async () => tdx.quote(), policy }],
      source: standard,
      early,
      now: () => now,
      emit: (event) => {
        if (event.type === 'status') events.push(event);
      },
    });
    await watcher.cycle();
    expect(events).toHaveLength(1);
    const first = events[0]!;
    expect(first).toMatchObject({
      type: 'status',
      deployment: 'tdx-api',
      previous: null,
      tcbStatus: 'UpToDate',
    });
    expect(['affirming', 'warning']).toContain(first.verdict);
    expect(first.early).toEqual({ verdict: first.verdict, tcbStatus: 'UpToDate', wouldFail: false });
    expect(first.validUntil).not.toBeNull();

    now = new Date(tdx.at.getTime() + 500); // this vector is checked 1 s before its TCB Info expires
    await watcher.cycle();
    expect(events, JSON.stringify(events)).toHaveLength(1); // no change, nothing emitted

    // Past the verdict's expiry: the store's collateral is stale and the service has nothing newer.
    now = new Date(new Date(first.validUntil!).getTime() + 1000);
    const stored = (await store.list()).length;
    await watcher.cycle();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      verdict: 'contraindicated',
      previous: first.verdict,
      validUntil: null,
    });
    expect(events[1]!.errors[0]).toMatch(/_EXPIRED$/);
    expect((await store.list()).length).toBe(stored); // the stale refetch was not cached
    await watcher.cycle();
    expect(events).toHaveLength(2);
  });

  it('re-appraises when new collateral arrives: unavailable offline, then affirming after a fetch', async () => {
    const store = new MemoryCollateralStore();
    const offline = resolvers(store, true);
    const online = resolvers(store);
    const events: WatchEvent[] = [];
    const watcher = new Watcher({
      deployments: [{ name: 'tdx-api', evidence: async () => tdx.quote(), policy }],
      source: offline.standard,
      now: () => tdx.at,
      emit: (event) => {
        if (event.type === 'status') events.push(event);
      },
    });
    const stop = new AbortController();
    let polls = 0;
    let seen = 0;
    await watcher.run({
      intervalMs: 3_600_000,
      pollMs: 60_000,
      signal: stop.signal,
      sleep: async () => {
        polls++;
        if (polls === 2) await online.standard.resolve(tdx.quote(), tdx.at); // new collateral arrives
        if (polls === 3) stop.abort();
      },
      changed: async () => {
        const size = (await store.list()).length;
        const changed = size !== seen;
        seen = size;
        return changed;
      },
    });
    expect(events.map((event) => event.verdict)).toEqual([
      'contraindicated',
      expect.stringMatching(/affirming|warning/),
    ]);
    expect(events[0]!.errors).toEqual(['COLLATERAL_UNAVAILABLE']);
    expect(polls).toBe(3); // re-appraised at the change, not after the hour
  });

  it('evidence that cannot be pulled is "unavailable"', async () => {
    const events: WatchEvent[] = [];
    const watcher = new Watcher({
      deployments: [
        {
          name: 'down',
          evidence: async () => {
            throw Object.assign(new Error('x'), { code: 'COLLATERAL_UNAVAILABLE' });
          },
        },
      ],
      source: resolvers().standard,
      now: () => tdx.at,
      emit: (event) => {
        if (event.type === 'status') events.push(event);
      },
    });
    await watcher.cycle();
    expect(events[0]).toMatchObject({ verdict: 'unavailable', errors: ['COLLATERAL_UNAVAILABLE'] });
  });
});

describe('Watcher over a simulated clock: a newer TCB Info downgrades a deployment', () => {
  it('affirming → contraindicated / warning per policy when TCB Info #2 arrives, with the advisories, once', async () => {
    // A simulated TDX platform: its quote and collateral signed by a development Intel-shaped PKI.
    const dir = mkdtempSync(join(tmpdir(), 'veritee-watch-sim-'));
    const sim = new SimulatedTdx(loadSimulatedIntelPki(dir), defaultSimulatedTdMeasurements());
    const quote = sim.quote(new Uint8Array(64).fill(0x5a));
    const anchors = await simulatorAnchors(dir);
    const fmspc = toHex(SIM_FMSPC);
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    const advisory = 'INTEL-SA-01234';
    const current = sim.pcsFiles({ now: t0, tcbEvaluationDataNumber: 17 });
    // Intel's `early` evaluation data announces the recovery before it becomes the standard.
    const recovery = (now: Date) =>
      sim.pcsFiles({ now, tcbEvaluationDataNumber: 18, recovery: { advisoryIds: [advisory] } });
    const pcsMock = await startMock();
    const serve = (files: Record<string, Uint8Array>, update: string) => {
      for (const [path, body, headers] of pcsRoutesOf(files, 'tdx', fmspc, 'platform', update))
        pcsMock.route(path, body, headers);
    };
    serve(current, 'standard');
    serve(recovery(t0), 'early');

    const store = new MemoryCollateralStore();
    const http = new HttpClient({ retries: 0, timeoutMs: 2000 });
    const pcs = new PcsProvider(http, { url: pcsMock.url });
    // The collateral pipeline verifies against the injected (simulator) anchor instead of Intel's root.
    const standard = new CollateralResolver({ store, pcs, anchors });
    const early = new CollateralResolver({ store, pcs, anchors, update: 'early' });
    const strict = loadPolicy({ platforms: ['sim'], tcb: { allowedStatuses: ['UpToDate'] } });
    const lenient = loadPolicy({ platforms: ['sim'], tcb: { allowedStatuses: ['UpToDate', 'OutOfDate'] } });
    let now = t0;
    const events: WatchEvent[] = [];
    const watcher = new Watcher({
      deployments: [
        { name: 'strict', evidence: async () => quote, policy: strict },
        { name: 'lenient', evidence: async () => quote, policy: lenient },
      ],
      source: standard,
      early,
      simulatorRoots: anchors,
      now: () => now,
      emit: (event) => {
        if (event.type === 'status') events.push(event);
      },
    });

    await watcher.cycle();
    expect(events.map((event) => [event.deployment, event.verdict, event.tcbStatus])).toEqual([
      ['strict', 'affirming', 'UpToDate'],
      ['lenient', 'affirming', 'UpToDate'],
    ]);
    // Under the early data the strict deployment would fail: the coming recovery is visible now.
    expect(events[0]!.early).toEqual({ verdict: 'contraindicated', tcbStatus: 'OutOfDate', wouldFail: true });
    expect(events[1]!.early).toEqual({ verdict: 'warning', tcbStatus: 'OutOfDate', wouldFail: false });
    expect(events[0]!.advisoryIds).toEqual([]);

    now = new Date(t0.getTime() + 3600_000);
    await watcher.cycle();
    expect(events).toHaveLength(2); // nothing changed, nothing emitted

    // At T the recovery becomes the standard: PCS serves TCB Info #2, and it is fetched, verified and stored.
    const T = new Date(t0.getTime() + 2 * 3600_000);
    serve(recovery(T), 'standard');
    now = T;
    const fetched = await pcs.tcbInfo('tdx', SIM_FMSPC, 'standard');
    await store.put(await verifyItem(fetched, T, { anchors }));
    await watcher.cycle();
    expect(events).toHaveLength(4);
    expect(events[2]).toMatchObject({
      deployment: 'strict',
      previous: 'affirming',
      verdict: 'contraindicated',
      tcbStatus: 'OutOfDate',
      advisoryIds: [advisory],
      time: T.toISOString(),
    });
    expect(events[2]!.errors).toEqual(['POLICY_VIOLATION']); // verified; the policy refuses OutOfDate
    expect(events[3]).toMatchObject({
      deployment: 'lenient',
      previous: 'affirming',
      verdict: 'warning',
      tcbStatus: 'OutOfDate',
      advisoryIds: [advisory],
    });

    for (const later of [T.getTime() + 60_000, T.getTime() + 86_400_000]) {
      now = new Date(later);
      await watcher.cycle();
    }
    expect(events, JSON.stringify(events.slice(4))).toHaveLength(4); // emitted once
    await pcsMock.close();
  });
});

/** A simulated TDX platform whose collateral a local mock PCS serves, and a watcher over it. */
async function simulatedPlatform() {
  const dir = mkdtempSync(join(tmpdir(), 'veritee-refresh-sim-'));
  const sim = new SimulatedTdx(loadSimulatedIntelPki(dir), defaultSimulatedTdMeasurements());
  const quote = sim.quote(new Uint8Array(64).fill(0x3c));
  const anchors = await simulatorAnchors(dir);
  const pcsMock = await startMock();
  const serve = (files: Record<string, Uint8Array>) => {
    for (const [path, body, headers] of pcsRoutesOf(files, 'tdx', toHex(SIM_FMSPC), 'platform', 'standard'))
      pcsMock.route(path, body, headers);
  };
  return { sim, quote, anchors, pcsMock, serve };
}

describe('Watcher refreshes collateral on its own: a newer TCB Info is noticed without any explicit fetch', () => {
  const HOUR = 3600_000;
  const tcbRoute = /\/tdx\/certification\/v4\/tcb\?/;

  it('one change line at the first refresh after TCB Info #2 is published; a rollback and 500s refused, once', async () => {
    const { sim, quote, anchors, pcsMock, serve } = await simulatedPlatform();
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    const advisory = 'INTEL-SA-04321';
    const current = sim.pcsFiles({ now: t0, tcbEvaluationDataNumber: 17 });
    serve(current);
    const store = new MemoryCollateralStore();
    const pcs = new PcsProvider(new HttpClient({ retries: 0, timeoutMs: 2000 }), { url: pcsMock.url });
    const standard = new CollateralResolver({ store, pcs, anchors });
    const strict = loadPolicy({ platforms: ['sim'], tcb: { allowedStatuses: ['UpToDate'] } });
    let now = t0;
    const events: WatchEvent[] = [];
    const notices: WatchNotice[] = [];
    const watcher = new Watcher({
      deployments: [
        { name: 'a', evidence: async () => quote, policy: strict },
        { name: 'b', evidence: async () => quote, policy: strict },
      ],
      source: standard,
      refresh: { everyMs: HOUR, sources: [standard] },
      simulatorRoots: anchors,
      now: () => now,
      emit: (event) => {
        if (event.type === 'collateral') notices.push(event);
        else events.push(event);
      },
    });
    const tcbInfos = async () =>
      (await store.versions('intel.tcbInfo', `tdx/${toHex(SIM_FMSPC)}/standard`)).length;
    const tcbRequests = () => pcsMock.requests.filter((request) => tcbRoute.test(request)).length;

    await watcher.cycle();
    expect(events.map((event) => [event.deployment, event.verdict, event.tcbStatus])).toEqual([
      ['a', 'affirming', 'UpToDate'],
      ['b', 'affirming', 'UpToDate'],
    ]);
    expect(tcbRequests()).toBe(1); // one refresh for the needs both deployments share

    // TCB Info #2 is published at T; before the next refresh is due the store's #1 is still served.
    const T = new Date(t0.getTime() + 50 * 60_000);
    const recovery = sim.pcsFiles({
      now: T,
      tcbEvaluationDataNumber: 18,
      recovery: { advisoryIds: [advisory] },
    });
    serve(recovery);
    now = new Date(t0.getTime() + 55 * 60_000);
    await watcher.cycle();
    expect(events).toHaveLength(2);
    expect(tcbRequests()).toBe(1);

    // The first refresh after T fetches, verifies and stores #2 and re-appraises at once.
    now = new Date(t0.getTime() + HOUR);
    await watcher.cycle();
    expect(tcbRequests()).toBe(2);
    expect(await tcbInfos()).toBe(2);
    expect(events.slice(2).map((event) => [event.deployment, event.previous, event.verdict])).toEqual([
      ['a', 'affirming', 'contraindicated'],
      ['b', 'affirming', 'contraindicated'],
    ]);
    expect(events[2]).toMatchObject({
      tcbStatus: 'OutOfDate',
      advisoryIds: [advisory],
      time: now.toISOString(),
    });
    expect(notices).toEqual([]);
    now = new Date(t0.getTime() + HOUR + 30 * 60_000);
    await watcher.cycle();
    expect(events).toHaveLength(4); // emitted once

    // A stale or malicious mirror serves #1 again: refused, not stored, the verdict stands, warned once.
    serve(current);
    for (const hours of [2, 3]) {
      now = new Date(t0.getTime() + hours * HOUR);
      await watcher.cycle();
    }
    expect(events).toHaveLength(4);
    expect(await tcbInfos()).toBe(2);
    expect(watcher.statuses().map((status) => status.advisoryIds)).toEqual([[advisory], [advisory]]);
    const rollback = notices.filter(
      (notice) => notice.path === `intel.tcbInfo/tdx/${toHex(SIM_FMSPC)}/standard`,
    );
    expect(rollback).toHaveLength(1);
    expect(rollback[0]).toMatchObject({ type: 'collateral', level: 'warning', code: 'COLLATERAL_ROLLBACK' });
    expect(rollback[0]!.message).toMatch(/evaluation data 17 .* stored evaluation data 18/);
    expect(notices.every((notice) => notice.code === 'COLLATERAL_ROLLBACK')).toBe(true);
    const rollbackNotices = notices.length;

    // The service fails (500s): the stored collateral stays in use and the error is reported once.
    pcsMock.inject(tcbRoute, { kind: 'status', status: 500 }, 100);
    for (const hours of [4, 5, 6]) {
      now = new Date(t0.getTime() + hours * HOUR);
      await watcher.cycle();
    }
    expect(events).toHaveLength(4); // no flapping
    expect(watcher.statuses().map((status) => status.verdict)).toEqual([
      'contraindicated',
      'contraindicated',
    ]);
    const failures = notices.slice(rollbackNotices);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.code).not.toBe('COLLATERAL_ROLLBACK');
    expect(failures[0]!.message).toMatch(/500/);
    expect(tcbRequests()).toBe(2 + 2 + 3); // one request per refresh: never more than once an hour
    await pcsMock.close();
  });

  it('offline: no refresh ever reaches the service; the stored collateral is used', async () => {
    const { sim, quote, anchors, pcsMock, serve } = await simulatedPlatform();
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    serve(sim.pcsFiles({ now: t0, tcbEvaluationDataNumber: 17 }));
    const store = new MemoryCollateralStore();
    const pcs = new PcsProvider(new HttpClient({ retries: 0, timeoutMs: 2000 }), { url: pcsMock.url });
    await new CollateralResolver({ store, pcs, anchors }).resolve(quote, t0); // filled beforehand
    const before = pcsMock.requests.length;
    serve(sim.pcsFiles({ now: t0, tcbEvaluationDataNumber: 18, recovery: { advisoryIds: ['INTEL-SA-1'] } }));
    const offline = new CollateralResolver({ store, pcs, anchors, offline: true });
    let now = t0;
    const events: WatchEvent[] = [];
    const watcher = new Watcher({
      deployments: [{ name: 'a', evidence: async () => quote }],
      source: offline,
      refresh: { everyMs: 60_000, sources: [offline] },
      simulatorRoots: anchors,
      now: () => now,
      emit: (event) => {
        if (event.type === 'status') events.push(event);
      },
    });
    for (const minutes of [0, 1, 2, 60, 600]) {
      now = new Date(t0.getTime() + minutes * 60_000);
      await watcher.cycle();
    }
    expect(pcsMock.requests.length).toBe(before);
    expect(events.map((event) => event.tcbStatus)).toEqual(['UpToDate']);
    await pcsMock.close();
  });
});

describe('CollateralResolver.refresh', () => {
  it('stores only newer items, refuses an older one with COLLATERAL_ROLLBACK, and keeps what it had', async () => {
    const { sim, quote, anchors, pcsMock, serve } = await simulatedPlatform();
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    const older = sim.pcsFiles({ now: t0, tcbEvaluationDataNumber: 17 });
    const newer = sim.pcsFiles({ now: new Date(t0.getTime() + 1000), tcbEvaluationDataNumber: 18 });
    const store = new MemoryCollateralStore();
    const pcs = new PcsProvider(new HttpClient({ retries: 0, timeoutMs: 2000 }), { url: pcsMock.url });
    const resolver = new CollateralResolver({ store, pcs, anchors });
    const at = new Date(t0.getTime() + 2000);
    serve(newer);
    const first = await resolver.refresh(quote, at);
    expect(first.errors).toEqual([]);
    expect(first.stored.map((item) => item.kind).sort()).toEqual([
      'intel.pckCrl',
      'intel.qeIdentity',
      'intel.rootCaCrl',
      'intel.tcbInfo',
    ]);
    expect(first.needs).toBe(resolver.needsKey(quote));
    const again = await resolver.refresh(quote, at);
    expect(again).toEqual({ needs: first.needs, stored: [], errors: [] }); // same content: nothing to do
    serve(older);
    const rolledBack = await resolver.refresh(quote, at);
    expect(rolledBack.stored).toEqual([]);
    expect(rolledBack.errors.map((error) => [error.code, error.path]).sort()).toEqual(
      [
        ['COLLATERAL_ROLLBACK', 'intel.pckCrl/platform'],
        ['COLLATERAL_ROLLBACK', 'intel.qeIdentity/tdx/standard'],
        ['COLLATERAL_ROLLBACK', 'intel.rootCaCrl/root'],
        ['COLLATERAL_ROLLBACK', `intel.tcbInfo/tdx/${toHex(SIM_FMSPC)}/standard`],
      ].sort(),
    );
    expect((await store.list()).map((item) => item.contentHash).sort()).toEqual(
      first.stored.map((item) => item.contentHash).sort(),
    );
    await pcsMock.close();
  });
});

describe('veritee watch (CLI)', () => {
  it('--once: one JSON line per deployment, posted to a loopback webhook; endpoint evidence is pulled', async () => {
    const received: unknown[] = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const port = (hook.address() as AddressInfo).port;
    writeFileSync(join(tmp, 'policy.json'), JSON.stringify({ tcb: { allowedStatuses: ['UpToDate'] } }));
    writeFileSync(
      join(tmp, 'deployments.json'),
      JSON.stringify({
        intervalSeconds: 3600,
        deployments: [
          { name: 'file', evidence: join(DCAP_DIR, tdx.vector, 'quote.bin'), policy: 'policy.json' },
          { name: 'pulled', endpoint: `${mock.url}/evidence` },
        ],
      }),
    );
    const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
    const args = [
      cli,
      'watch',
      join(tmp, 'deployments.json'),
      '--once',
      '--at',
      tdx.at.toISOString(),
      '--pcs-url',
      mock.url,
      '--store',
      join(tmp, 'watch.sqlite'),
      '--webhook',
      `http://127.0.0.1:${port}/hook`,
    ];
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, args);
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.on('close', (code) => resolve({ code, stdout }));
    });
    hook.close();
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.deployment)).toEqual(['file', 'pulled']);
    expect(lines[0].tcbStatus).toBe('UpToDate');
    expect(lines[0].early).toMatchObject({ tcbStatus: 'UpToDate', wouldFail: false });
    expect(received).toEqual(lines);
    expect(out.code).toBe(lines.some((line) => line.verdict === 'contraindicated') ? 1 : 0);
  });
});

describe('veritee watch (CLI): --refresh and --offline', () => {
  const run = (args: string[]) => runCli(['watch', ...args]);

  it('--once with a PCS fills the store; --offline --once answers from it and sends no request', async () => {
    const file = join(tmp, 'offline-deployments.json');
    writeFileSync(
      file,
      JSON.stringify({ deployments: [{ name: 'file', evidence: join(DCAP_DIR, tdx.vector, 'quote.bin') }] }),
    );
    const store = join(tmp, 'offline.sqlite');
    const common = [file, '--once', '--at', tdx.at.toISOString(), '--pcs-url', mock.url, '--store', store];
    const before = mock.requests.length;
    const online = await run([...common, '--refresh', '15m']);
    expect(online.stdout).toContain('"tcbStatus":"UpToDate"');
    expect(mock.requests.length).toBeGreaterThan(before);
    const filled = mock.requests.length;
    const offline = await run([...common, '--offline']);
    expect(JSON.parse(offline.stdout.trim()).tcbStatus).toBe('UpToDate'); // from the store alone
    expect(mock.requests.length).toBe(filled);
  });

  it('a malformed --refresh is ARGUMENT_INVALID, before anything is fetched', async () => {
    const before = mock.requests.length;
    for (const bad of ['0s', '1', '1w', '-1h', '1.5h', '100ms']) {
      const out = await run([
        join(tmp, 'offline-deployments.json'),
        '--once',
        '--refresh',
        bad,
        '--pcs-url',
        mock.url,
      ]);
      expect(out.code, bad).toBe(2);
      expect(out.stderr, bad).toMatch(/--refresh must be a duration/);
    }
    expect(mock.requests.length).toBe(before);
  });
});

describe('deployments.json is checked', () => {
  it('bad files are ARGUMENT_INVALID naming the place, never a crash', async () => {
    const { loadDeployments } = await import('../../src/cli/watch-command.js');
    const http = new HttpClient();
    const write = (name: string, value: unknown): string => {
      const path = join(tmp, name);
      writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
      return path;
    };
    write('broken-policy.json', '{ not json');
    const cases: [unknown, RegExp][] = [
      ['{', /not JSON/],
      [{ deployments: [] }, /non-empty/],
      [{ deployments: [{ name: 'a' }] }, /exactly one of evidence/],
      [{ deployments: [{ name: 'a', evidence: 'x', endpoint: 'y' }] }, /exactly one of evidence/],
      [
        {
          deployments: [
            { name: 'a', evidence: 'x' },
            { name: 'a', evidence: 'y' },
          ],
        },
        /duplicate name/,
      ],
      [{ deployments: [{ name: 'a', evidence: 'x', policy: 'broken-policy.json' }] }, /not valid JSON/],
      [{ deployments: [{ name: 'a', evidence: 'x', extra: 1 }] }, /unknown member "extra"/],
      [{ intervalSeconds: 0, deployments: [{ name: 'a', evidence: 'x' }] }, /intervalSeconds/],
    ];
    for (const [index, [content, message]] of cases.entries()) {
      const file = write(`d${index}.json`, content);
      expect(() => loadDeployments(file, http)).toThrow(message);
      try {
        loadDeployments(file, http);
      } catch (error) {
        expect((error as { code: string }).code).toBe('ARGUMENT_INVALID');
      }
    }
  });
});
