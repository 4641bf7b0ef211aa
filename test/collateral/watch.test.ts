/**
 * `veritee watch` over a simulated clock: a deployment's status is emitted once per change — when its
 * collateral expires, when missing collateral arrives — with its expiry date and its verdict under Intel's
 * `early` TCB evaluation data; the CLI posts each change to a webhook (loopback only).
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/collateral/http.js';
import { MemoryCollateralStore } from '../../src/collateral/memory.js';
import { PcsProvider } from '../../src/collateral/providers.js';
import { CollateralResolver } from '../../src/collateral/resolver.js';
import { type WatchEvent, Watcher } from '../../src/collateral/watch.js';
import { DCAP_CASES } from './cases.js';
import { DCAP_DIR, type MockServer, pcsRoutes, startMock } from './mock-server.js';

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
        events.push(event);
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
        events.push(event);
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
        events.push(event);
      },
    });
    await watcher.cycle();
    expect(events[0]).toMatchObject({ verdict: 'unavailable', errors: ['COLLATERAL_UNAVAILABLE'] });
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
