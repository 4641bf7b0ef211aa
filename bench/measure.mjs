// Benchmark: measurement and release-log operations, one core, against the built library.
//
//   npm run build && node bench/measure.mjs
//
// EIF PCR computation (MB/s, against SHA-384 over the same bytes: the floor), event-log replay of the
// real COS 113 CCEL log and a real dstack log, release-record verification (Ed25519 and P-256, against a
// bare signature verification), and the transparency log in SQLite: appends/s and inclusion proofs
// (generate + verify) at 100,000 entries.
import { createHash, generateKeyPairSync, verify as nodeVerify, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { measureEif } from '../dist/measure/eif.js';
import { parseEventLog } from '../dist/measure/eventlog.js';
import { publicJwkOf, signRelease, trustedKeyFromJwk, verifyRelease } from '../dist/measure/release.js';
import { replayEventLog } from '../dist/measure/rtmr.js';
import { TransparencyLog } from '../dist/measure/translog/log.js';
import { leafHash, verifyInclusion } from '../dist/measure/translog/merkle.js';
import { SqliteLogStore } from '../dist/server/translog-store.js';
import { fmt, opsPerSecond, table } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function buildEif(parts) {
  const size = 548 + parts.reduce((sum, p) => sum + 12 + p.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x2e, 0x65, 0x69, 0x66]);
  view.setUint16(4, 4);
  view.setUint16(26, parts.length);
  let offset = 548;
  parts.forEach((part, i) => {
    view.setBigUint64(28 + 8 * i, BigInt(offset));
    view.setBigUint64(284 + 8 * i, BigInt(part.data.length));
    view.setUint16(offset, part.type);
    view.setBigUint64(offset + 4, BigInt(part.data.length));
    out.set(part.data, offset + 12);
    offset += 12 + part.data.length;
  });
  view.setUint32(544, crc32(Buffer.concat([out.subarray(0, 544), out.subarray(548)])));
  return out;
}

const rows = [];
// EIF: 8 MiB kernel, 16 MiB init ramdisk, 40 MiB application ramdisk.
const mib = (n, fill) => new Uint8Array(n * 1024 * 1024).fill(fill);
const eif = buildEif([
  { type: 1, data: mib(8, 1) },
  { type: 2, data: new TextEncoder().encode('console=ttyS0') },
  { type: 3, data: mib(16, 2) },
  { type: 3, data: mib(40, 3) },
]);
const megabytes = eif.length / 1e6;
const eifOps = await opsPerSecond(() => measureEif(eif), { seconds: SECONDS * 2, warmup: 0.2 });
const floorOps = await opsPerSecond(
  () => {
    // PCR0 and PCR1+PCR2 each hash the image data once: two SHA-384 passes, plus the CRC pass.
    createHash('sha384').update(eif).digest();
    createHash('sha384').update(eif).digest();
  },
  { seconds: SECONDS * 2, warmup: 0.2 },
);
rows.push([
  `EIF PCR0/1/2 + CRC, ${fmt(megabytes)} MB image`,
  `${fmt(eifOps * megabytes)} MB/s`,
  `${fmt(floorOps * megabytes)} MB/s (2× SHA-384)`,
]);

const ccel = readFileSync(new URL('../test/vectors/measure/ccel-cos113/ccel_data.dat', import.meta.url));
const dstack = readFileSync(
  new URL('../test/vectors/measure/dstack/near-mpc/event_log.json', import.meta.url),
);
rows.push([
  'CCEL parse + replay (43 events, COS 113)',
  `${fmt(await opsPerSecond(() => replayEventLog(parseEventLog(ccel)), { seconds: SECONDS }))} logs/s`,
  '',
]);
rows.push([
  'dstack JSON parse + replay (29 events, 9 recomputed)',
  `${fmt(await opsPerSecond(() => replayEventLog(parseEventLog(dstack)), { seconds: SECONDS }))} logs/s`,
  '',
]);

const predicate = {
  repository: 'https://github.com/example/app',
  commit: 'a'.repeat(40),
  buildRecipe: { digest: { sha256: 'b'.repeat(64) } },
  measurements: { nitro: { pcr0: '1'.repeat(96), pcr1: '2'.repeat(96), pcr2: '3'.repeat(96) } },
};
for (const [name, options] of [
  ['Ed25519', ['ed25519']],
  ['P-256', ['ec', { namedCurve: 'P-256' }]],
]) {
  const pair = generateKeyPairSync(...options);
  const jwk = pair.privateKey.export({ format: 'jwk' });
  const key = trustedKeyFromJwk(publicJwkOf(jwk));
  const envelope = await signRelease(predicate, jwk);
  const ops = await opsPerSecond(() => verifyRelease(envelope, [key]), { seconds: SECONDS });
  const data = Buffer.alloc(600, 1);
  const signature =
    name === 'Ed25519' ? sign(null, data, pair.privateKey) : sign('sha256', data, pair.privateKey);
  const floor = await opsPerSecond(
    () =>
      name === 'Ed25519'
        ? nodeVerify(null, data, pair.publicKey, signature)
        : nodeVerify('sha256', data, pair.publicKey, signature),
    { seconds: SECONDS },
  );
  rows.push([
    `release record verify (${name})`,
    `${fmt(ops)}/s`,
    `${fmt(floor)}/s (one signature verification)`,
  ]);
}

const logJwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
const store = new SqliteLogStore(join(mkdtempSync(join(tmpdir(), 'veritee-bench-')), 'log.db'), 'bench/log');
const log = new TransparencyLog(store, { origin: 'bench/log', privateJwk: logJwk });
const N = 100_000;
const appendStart = performance.now();
for (let i = 0; i < N; i++) log.append(new TextEncoder().encode(`entry ${i}`));
const appendRate = N / ((performance.now() - appendStart) / 1000);
rows.push([
  `log append (SQLite, one transaction each, synchronous=FULL, to ${fmt(N)})`,
  `${fmt(appendRate)}/s`,
  '',
]);
const root = log.root();
const proofOps = await opsPerSecond(
  (i) => {
    const index = (i * 7919) % N;
    const proof = log.inclusionProof(index, N);
    if (!verifyInclusion(index, N, leafHash(new TextEncoder().encode(`entry ${index}`)), proof, root))
      throw new Error('bad proof');
  },
  { seconds: SECONDS },
);
rows.push([`inclusion proof generate + verify at ${fmt(N)} entries`, `${fmt(proofOps)}/s`, '']);
store.close();

console.log(`## measure (node ${process.version}, one core)\n`);
console.log(table(['operation', 'veritee', 'floor'], rows));
