// Benchmark: DCAP verification with collateral from a warm store vs collateral held in memory, and cold
// (fetched from a local mock PCS on 127.0.0.1, verified and stored) — against the built library.
//
//   npm run build && node bench/collateral.mjs
//   VERITEE_BENCH_PG_URL=postgres://… node bench/collateral.mjs     (adds a warm PostgreSQL store)
//
// in memory: `verify(quote, { collateral })` with the same dcap-qvl collateral object reused (the verifier's
// fastest in-memory path). warm (memory / SQLite / PostgreSQL store): `verify(quote, { collateralSource })`,
// an offline resolver over a store that already holds the collateral. Every contender verifies the same
// rotating set of fresh copies of the quote (a service gets new bytes per request). The contenders run in
// turns of 10 calls, ROUNDS rounds of SECONDS per contender; the overhead of each warm store is the median
// over rounds of the ratio of the in-memory rate to its rate in the same round. `resolve` alone: µs per
// `resolver.resolve` call. cold: a fresh empty store and resolver per verification, the four items fetched
// over loopback HTTP, each verified and stored.
//
// Instructions per verification, independent of the machine's load (the difference between two call counts
// removes the setup):
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/collateral.mjs --only tdx:sqlite 1000
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/collateral.mjs --only tdx:sqlite 2000
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CollateralResolver,
  HttpClient,
  MemoryCollateralStore,
  PcsProvider,
} from '../dist/collateral/index.js';
import { PostgresCollateralStore } from '../dist/collateral/store-postgres.js';
import { SqliteCollateralStore } from '../dist/collateral/store-sqlite.js';
import { verify } from '../dist/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PG_URL = process.env.VERITEE_BENCH_PG_URL;
// `--only <tdx|sgx>:<inMemory|memory|sqlite|postgres> <calls>`: no figures, only that many calls (for
// instruction counts under valgrind, which do not depend on the machine's load).
const onlyAt = process.argv.indexOf('--only');
const ONLY =
  onlyAt < 0
    ? undefined
    : {
        tee: process.argv[onlyAt + 1].split(':')[0],
        contender: process.argv[onlyAt + 1].split(':')[1],
        calls: Number(process.argv[onlyAt + 2]),
      };
const VECTORS = new URL('../test/vectors/dcap/', import.meta.url);
const CASES = [
  {
    name: 'TDX (quote v4)',
    id: 'tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06',
    tee: 'tdx',
    fmspc: 'B0C06F000000',
    ca: 'platform',
  },
  {
    name: 'SGX (quote v3)',
    id: 'sgx/dcapqvl-sgx-v3-00A067110000-2025-06',
    tee: 'sgx',
    fmspc: '00A067110000',
    ca: 'processor',
  },
];

async function rate(fn) {
  for (let i = 0; i < 30; i++) await fn();
  let count = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 10; i++) await fn();
    count += 10;
  }
  return (count * 1000) / (performance.now() - start);
}

/**
 * Rates per round of every contender, by wall time and by this process's CPU time (which leaves out the
 * time other processes hold the cores). Within a round the contenders take turns in batches of 10 calls
 * for SECONDS each in total, so that load from other processes falls on all of them alike.
 */
async function interleaved(contenders) {
  const entries = Object.entries(contenders);
  for (const [, fn] of entries) for (let i = 0; i < 30; i++) await fn();
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const zero = () => Object.fromEntries(entries.map(([name]) => [name, 0]));
    const [wall, cpu, count] = [zero(), zero(), zero()];
    const deadline = performance.now() + SECONDS * 1000 * entries.length;
    while (performance.now() < deadline) {
      for (const [name, fn] of entries) {
        const start = performance.now();
        const startCpu = process.cpuUsage();
        for (let i = 0; i < 10; i++) await fn();
        const used = process.cpuUsage(startCpu);
        wall[name] += performance.now() - start;
        cpu[name] += (used.user + used.system) / 1000;
        count[name] += 10;
      }
    }
    const rates = (ms) =>
      Object.fromEntries(entries.map(([name]) => [name, (count[name] * 1000) / ms[name]]));
    rounds.push({ wall: rates(wall), cpu: rates(cpu) });
  }
  return rounds;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function medianMs(fn, runs = 25) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** µs per call of `fn`, best of ROUNDS slices. */
async function microseconds(fn) {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) best = Math.min(best, 1e6 / (await rate(fn)));
  return best;
}

// A minimal loopback PCS serving the vectors' files.
const routes = new Map();
const server = createServer((request, response) => {
  const route = routes.get(request.url);
  if (route === undefined) {
    response.writeHead(404);
    response.end();
    return;
  }
  response.writeHead(200, { 'content-length': route.body.length, ...route.headers });
  response.end(route.body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const tmp = mkdtempSync(join(tmpdir(), 'veritee-bench-'));

async function closeAll(stores) {
  for (const store of Object.values(stores)) {
    if (store instanceof PostgresCollateralStore) await store.drop();
    await store.close();
  }
}

const rows = [];
for (const c of CASES) {
  const dir = new URL(`${c.id}/`, VECTORS);
  const read = (name) => new Uint8Array(readFileSync(new URL(name, dir)));
  const chain = (name) => encodeURIComponent(readFileSync(new URL(name, dir), 'utf8'));
  routes.set(`/${c.tee}/certification/v4/tcb?fmspc=${c.fmspc}&update=standard`, {
    body: read('tcb_info.json'),
    headers: { 'TCB-Info-Issuer-Chain': chain('tcb_info_issuer_chain.pem') },
  });
  routes.set(`/${c.tee}/certification/v4/qe/identity?update=standard`, {
    body: read('qe_identity.json'),
    headers: { 'SGX-Enclave-Identity-Issuer-Chain': chain('qe_identity_issuer_chain.pem') },
  });
  routes.set(`/sgx/certification/v4/pckcrl?ca=${c.ca}&encoding=der`, {
    body: read('pck_crl.der'),
    headers: { 'SGX-PCK-CRL-Issuer-Chain': chain('pck_crl_issuer_chain.pem') },
  });
  routes.set('/sgx/certification/v4/rootcacrl', { body: read('root_ca_crl.der'), headers: {} });

  const quote = read('quote.bin');
  // Fresh bytes for every verification, as a service receives them: 64 copies in rotation.
  const copies = Array.from({ length: 64 }, () => quote.slice());
  let next = 0;
  const fresh = () => copies[next++ & 63];
  const at = new Date(JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')).verification_time.iso);
  // The verifier's fastest in-memory input: the dcap-qvl JSON object, reused (string fields: identity fast path).
  const collateral = JSON.parse(readFileSync(new URL('collateral.json', dir), 'utf8'));
  const http = new HttpClient({ retries: 2, backoffMs: 5 });
  const pcs = new PcsProvider(http, { url: base });

  // Fill each store once through an online resolver, then read it with an offline one.
  const stores = { memory: new MemoryCollateralStore() };
  stores.sqlite = new SqliteCollateralStore(join(tmp, `${c.tee}.sqlite`));
  if (PG_URL !== undefined) {
    stores.postgres = new PostgresCollateralStore(PG_URL, { table: `veritee_bench_${process.pid}_${c.tee}` });
    await stores.postgres.drop();
  }
  const warm = {};
  for (const [name, store] of Object.entries(stores)) {
    await new CollateralResolver({ store, pcs }).resolve(quote, at);
    warm[name] = new CollateralResolver({ store, offline: true });
    const check = await verify(quote, { at, collateralSource: warm[name] });
    if (!check.verified) throw new Error(`${c.name} ${name}: ${JSON.stringify(check.errors)}`);
  }

  const contenders = { inMemory: () => verify(fresh(), { at, collateral }) };
  for (const [name, resolver] of Object.entries(warm))
    contenders[name] = () => verify(fresh(), { at, collateralSource: resolver });
  if (ONLY !== undefined) {
    // Instruction-count mode (see the header): warm up, then exactly CALLS calls of one contender.
    if (c.tee !== ONLY.tee) continue;
    const fn = contenders[ONLY.contender];
    if (fn === undefined) throw new Error(`no contender "${ONLY.contender}"`);
    for (let i = 0; i < 300; i++) await fn();
    for (let i = 0; i < ONLY.calls; i++) await fn();
    await closeAll(stores);
    continue;
  }
  const rounds = await interleaved(contenders);
  const resolveUs = {};
  for (const [name, resolver] of Object.entries(warm))
    resolveUs[name] = await microseconds(() => resolver.resolve(fresh(), at));

  const cold = await medianMs(async () => {
    const store = new MemoryCollateralStore();
    const result = await verify(quote, { at, collateralSource: new CollateralResolver({ store, pcs }) });
    if (!result.verified) throw new Error(`cold verification failed: ${JSON.stringify(result.errors)}`);
  });
  const coldSqlite = await medianMs(async () => {
    const path = join(tmp, `cold-${Math.random().toString(36).slice(2)}.sqlite`);
    const store = new SqliteCollateralStore(path);
    await verify(quote, { at, collateralSource: new CollateralResolver({ store, pcs }) });
    await store.close();
  }, 15);
  rows.push({ c, rounds, resolveUs, cold, coldSqlite, stores: Object.keys(stores) });
  await closeAll(stores);
}
server.close();
rmSync(tmp, { recursive: true, force: true });
if (ONLY !== undefined) process.exit(0);

const label = { memory: 'memory store', sqlite: 'SQLite', postgres: 'PostgreSQL' };
console.log(
  `\nDCAP verification: collateral in memory vs from a warm store vs cold (loopback mock PCS); node ${process.version}`,
);
console.log(
  `${ROUNDS} rounds, ${SECONDS}s per contender per round, in turns of 10 calls; overhead = median over rounds of in-memory rate / warm rate - 1 (min–max in brackets), by wall and by CPU time; cold = median of fresh stores\n`,
);
for (const { c, rounds, resolveUs, cold, coldSqlite, stores } of rows) {
  const inMemory = (clock) => median(rounds.map((round) => round[clock].inMemory));
  console.log(
    `${c.name}: in memory ${inMemory('wall').toFixed(0)} verif/s by wall time, ${inMemory('cpu').toFixed(0)} by CPU time (median round)`,
  );
  console.log(
    '| warm store | verif/s (wall) | overhead (wall) | verif/s (CPU) | overhead (CPU) | resolve alone (µs) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const name of stores) {
    const cells = ['wall', 'cpu'].map((clock) => {
      const overheads = rounds.map((round) => (round[clock].inMemory / round[clock][name] - 1) * 100);
      const range = `${Math.min(...overheads).toFixed(1)} … ${Math.max(...overheads).toFixed(1)}`;
      const rate = median(rounds.map((round) => round[clock][name])).toFixed(0);
      return `${rate} | ${median(overheads).toFixed(1)} % (${range})`;
    });
    console.log(`| ${label[name]} | ${cells.join(' | ')} | ${resolveUs[name].toFixed(1)} |`);
  }
  console.log(
    `cold: ${cold.toFixed(1)} ms with a memory store, ${coldSqlite.toFixed(1)} ms with a new SQLite file\n`,
  );
}
