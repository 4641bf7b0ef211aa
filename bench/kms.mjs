// KMS benchmark: 3-of-5 node processes on loopback, 50 concurrent enclaves recovering the app key
// (evidence from the throw-away dev root, verification included at every node), beside the cost of
// the evidence verification alone. Run: npm run build && node bench/kms.mjs [--recoveries 500] [--concurrency 50]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ed25519Generate } from '../dist/kms/crypto.js';
import { KmsClient, publishPolicy } from '../dist/kms/index.js';
import { recoverBinding } from '../dist/kms/messages.js';
import { createDevAttester } from '../dist/kms/node/dev-attester.js';
import { NodeProcess } from '../dist/kms/node/processes.js';
import { customAnchor } from '../dist/pki/roots.js';
import { loadPolicy, verify } from '../dist/verify.js';
import { fmt, opsPerSecond, table } from './lib.mjs';

const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const RECOVERIES = arg('recoveries', 500);
const CONCURRENCY = arg('concurrency', 50);
const NODES = 5;
const THRESHOLD = 3;

const work = mkdtempSync(join(tmpdir(), 'veritee-kms-bench-'));
const attester = createDevAttester();
const rootPath = join(work, 'root.pem');
writeFileSync(rootPath, attester.rootPem);
const policyJson = { platforms: ['nitro'], measurements: { pcr0: attester.pcr0() } };

// 1. The verification alone: what each node does per request, in this process, one core.
const anchors = [await customAnchor('dev', attester.rootPem)];
const policy = loadPolicy(policyJson);
const documents = Array.from({ length: 64 }, (_, i) =>
  attester.attest(
    recoverBinding('a', 1, 'A'.repeat(43), [{ node: '0'.repeat(32), nonce: String(i).padStart(43, 'A') }]),
  ),
);
const verifyRate = await opsPerSecond(async (i) => {
  const result = await verify(documents[i % documents.length], { anchors, policy });
  if (result.verdict !== 'affirming') throw new Error('verification failed');
});
const attestRate = await opsPerSecond(async () => attester.attest(new Uint8Array(64)));

// 2. Recoveries against node processes.
const nodes = Array.from(
  { length: NODES },
  (_, i) => new NodeProcess({ dir: join(work, `n${i}`), trustRoots: [rootPath] }),
);
try {
  await Promise.all(nodes.map((node) => node.start()));
  const urls = nodes.map((node) => node.url);
  const owner = ed25519Generate();
  await publishPolicy({
    appId: 'bench-app',
    ownerSeed: owner.seed,
    policy: policyJson,
    threshold: THRESHOLD,
    nodes: urls,
  });
  const client = new KmsClient({
    appId: 'bench-app',
    nodes: urls,
    attest: async (data) => attester.attest(data),
    timeoutMs: 60_000,
  });
  await client.create();
  for (let i = 0; i < 10; i++) await client.recover(); // warm-up

  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RECOVERIES) {
        next++;
        const t0 = performance.now();
        const { valid } = await client.recover();
        if (valid.length < THRESHOLD) throw new Error('too few shares');
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\n${RECOVERIES} recoveries, ${CONCURRENCY} concurrent, ${THRESHOLD}-of-${NODES} node processes on 127.0.0.1 (SQLite, synchronous=FULL); node ${process.version}; ${cpus().length} × ${cpu}\n`,
  );
  console.log(
    table(
      ['measure', 'value'],
      [
        ['recoveries/s', fmt(latencies.length / seconds)],
        ['p50 latency (ms)', fmt(pct(50))],
        ['p99 latency (ms)', fmt(pct(99))],
        ['verifications alone, one core (verify + policy, per s)', fmt(verifyRate)],
        ['evidence generation, dev attester (per s)', fmt(attestRate)],
        ['verifications per recovery (one per node asked)', String(NODES)],
      ],
    ),
  );
} catch (error) {
  for (const node of nodes)
    console.error(`node ${node.id.slice(0, 8)} running=${node.running}: ${node.stderrTail}`);
  throw error;
} finally {
  await Promise.all(nodes.map((node) => node.kill()));
  rmSync(work, { recursive: true, force: true });
}
