// KMS benchmark: 3-of-5 node processes on loopback, 50 concurrent simulated enclaves recovering the
// app key (simulator evidence, platform sim, verified in full at every node), beside the cost of the
// evidence verifications alone and of the HPKE operations, all measured in this run.
// Run: npm run build && node bench/kms.mjs [--recoveries 500] [--concurrency 50] [--sequential 20]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { ed25519Generate, HpkeRecipient, hpkeSeal } from '../dist/kms/crypto.js';
import { KmsClient, publishPolicy } from '../dist/kms/index.js';
import { recoverBinding } from '../dist/kms/messages.js';
import { exampleAppBytes } from '../dist/kms/node/example-app.js';
import { NodeProcess } from '../dist/kms/node/processes.js';
import { simulatedApp } from '../dist/kms/node/sim-enclave.js';
import { simulatorAnchor } from '../dist/runtime/sim/store.js';
import { loadPolicy, verify } from '../dist/verify.js';
import { fmt, opsPerSecond, table } from './lib.mjs';

const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const RECOVERIES = arg('recoveries', 500);
const CONCURRENCY = arg('concurrency', 50);
const SEQUENTIAL = arg('sequential', 20);
const NODES = 5;
const THRESHOLD = 3;

const work = mkdtempSync(join(tmpdir(), 'veritee-kms-bench-'));
const sim = simulatedApp({
  simDir: join(work, 'sim'),
  appBytes: exampleAppBytes(),
  warn: (message) => console.error(message),
});
const attest = sim.attester();

// 1. What one node does per recover request besides HTTP and the store, in this process, one core.
const simulatorRoots = [await simulatorAnchor(sim.simDir)];
const policy = loadPolicy(sim.releasePolicy);
const documents = await Promise.all(
  Array.from({ length: 64 }, (_, i) =>
    attest(
      recoverBinding('a', 1, 'A'.repeat(43), [{ node: '0'.repeat(32), nonce: String(i).padStart(43, 'A') }]),
    ),
  ),
);
const verifyRate = await opsPerSecond(async (i) => {
  const result = await verify(documents[i % documents.length], { simulatorRoots, policy });
  if (result.verdict !== 'affirming' || result.platform !== 'sim') throw new Error('verification failed');
});
const attestRate = await opsPerSecond(() => attest(new Uint8Array(64)));

// HPKE: the KMS suite (@hpke/core's protocol on the #crypto backend) beside @hpke/core's stock suite.
const info = new Uint8Array(48);
const share = new Uint8Array(33);
const recipient = await HpkeRecipient.generate();
const kmsSealed = await hpkeSeal(recipient.publicKey, info, share);
const kmsSeal = await opsPerSecond(() => hpkeSeal(recipient.publicKey, info, share));
const kmsOpen = await opsPerSecond(() => recipient.open(info, kmsSealed, 'KMS_SHARE_INVALID', 'bench'));
const stock = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes128Gcm(),
});
const stockPair = await stock.kem.generateKeyPair();
const stockRaw = await stock.kem.serializePublicKey(stockPair.publicKey);
const stockSealed = await stock.seal({ recipientPublicKey: stockPair.publicKey, info }, share);
const stockSeal = await opsPerSecond(async () =>
  stock.seal({ recipientPublicKey: await stock.kem.deserializePublicKey(stockRaw), info }, share),
);
const stockOpen = await opsPerSecond(() =>
  stock.open({ recipientKey: stockPair, enc: stockSealed.enc, info }, stockSealed.ct),
);

// 2. Recoveries against node processes.
const nodes = Array.from(
  { length: NODES },
  (_, i) => new NodeProcess({ dir: join(work, `n${i}`), trustSim: [sim.rootCertificatePath] }),
);
// CPU seconds (user + system) a process has used, from /proc (Linux; clock ticks of 10 ms): the cost
// of a recovery in CPU time does not depend on what else runs on the machine, unlike its rate.
const processCpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const nodesCpuSeconds = () => nodes.reduce((sum, node) => sum + processCpuSeconds(node.pid), 0);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
try {
  await Promise.all(nodes.map((node) => node.start()));
  const urls = nodes.map((node) => node.url);
  const owner = ed25519Generate();
  await publishPolicy({
    appId: 'bench-app',
    ownerSeed: owner.seed,
    policy: sim.releasePolicy,
    threshold: THRESHOLD,
    nodes: urls,
  });
  const client = new KmsClient({ appId: 'bench-app', nodes: urls, attest, timeoutMs: 60_000 });
  await client.create();
  for (let i = 0; i < 10; i++) await client.recover(); // warm-up

  const alone = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t0 = performance.now();
    await client.recover();
    alone.push(performance.now() - t0);
  }
  alone.sort((a, b) => a - b);

  const latencies = [];
  let next = 0;
  const cpuBefore = { nodes: nodesCpuSeconds(), client: processCpuSeconds(process.pid) };
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
  const nodesCpu = (nodesCpuSeconds() - cpuBefore.nodes) / latencies.length;
  const clientCpu = (processCpuSeconds(process.pid) - cpuBefore.client) / latencies.length;
  const cpuPerRecovery = nodesCpu + clientCpu;
  latencies.sort((a, b) => a - b);
  const rate = latencies.length / seconds;

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\n${RECOVERIES} recoveries, ${CONCURRENCY} concurrent, ${THRESHOLD}-of-${NODES} node processes on 127.0.0.1 (SQLite, synchronous=FULL), simulator evidence; node ${process.version}; ${cpus().length} × ${cpu}\n`,
  );
  console.log(
    table(
      ['measure', 'value'],
      [
        [`recoveries/s (${THRESHOLD}-of-${NODES}, ${CONCURRENCY} concurrent)`, fmt(rate)],
        ['p50 latency (ms)', fmt(percentile(latencies, 50))],
        ['p99 latency (ms)', fmt(percentile(latencies, 99))],
        [`one recovery alone, p50 of ${SEQUENTIAL} (ms)`, fmt(percentile(alone, 50))],
        [
          'CPU time per recovery: 5 nodes + client and enclave (ms)',
          `${fmt(nodesCpu * 1000)} + ${fmt(clientCpu * 1000)} = ${fmt(cpuPerRecovery * 1000)}`,
        ],
        ['recoveries/s the CPU allows (cores ÷ CPU time per recovery)', fmt(cpus().length / cpuPerRecovery)],
        ['verifications alone, one core (verify + policy, per s)', fmt(verifyRate)],
        [`verifications per recovery (one per node asked)`, String(NODES)],
        [
          'recoveries/s if verification were the only cost (verify rate × cores ÷ 5)',
          fmt((verifyRate * cpus().length) / NODES),
        ],
        ['evidence generation, simulator (per s)', fmt(attestRate)],
        ['HPKE seal, KMS suite / @hpke/core stock (per s)', `${fmt(kmsSeal)} / ${fmt(stockSeal)}`],
        ['HPKE open, KMS suite / @hpke/core stock (per s)', `${fmt(kmsOpen)} / ${fmt(stockOpen)}`],
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
