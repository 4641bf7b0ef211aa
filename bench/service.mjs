// Load run of the verifier service on loopback: the server in its own process (one core), autocannon
// in this one. Requests per second and latency percentiles per evidence kind, with warm caches.
// Run: npm run bench -- service
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { table } from './lib.mjs';

const root = join(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);

/** Request bodies: one per evidence kind available in the test vectors. */
export function bodies() {
  const out = [];
  const nitroDir = join(root, 'test', 'vectors', 'nitro', 'marlin-aws-2024-12-13');
  const nitro = JSON.parse(readFileSync(join(nitroDir, 'expected.json'), 'utf8'));
  out.push({
    name: 'Nitro (raw body, ?at=)',
    path: `/v1/verify?at=${nitro.verification_time.unix_ms / 1000}`,
    contentType: 'application/octet-stream',
    body: readFileSync(join(nitroDir, 'attestation_doc.cose')),
  });
  return out;
}

const script = `
  const { startVerifierServer } = await import(${JSON.stringify(join(root, 'dist', 'server', 'node.js'))});
  const server = await startVerifierServer({ port: 0, quiet: true, keyPath: process.argv[2], rateLimit: { rate: 1e9, burst: 1e9 } });
  process.send({ port: server.port });
`;
const keyPath = join(mkdtempSync(join(tmpdir(), 'veritee-bench-')), 'key.jwk');
const child = fork('--input-type=module', ['-e', script, keyPath], {
  execArgv: ['--input-type=module', '-e', script],
  stdio: 'inherit',
});
const port = await new Promise((resolve) => child.once('message', (m) => resolve(m.port)));

const rows = [];
try {
  for (const request of bodies()) {
    const url = `http://127.0.0.1:${port}${request.path}`;
    const check = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': request.contentType },
      body: request.body,
    });
    if (check.status !== 200)
      throw new Error(`${request.name}: status ${check.status} ${await check.text()}`);
    await autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': request.contentType },
      body: request.body,
      connections,
      duration: 1,
    });
    const result = await autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': request.contentType },
      body: request.body,
      connections,
      duration: seconds,
    });
    const errors = result.errors + result.non2xx;
    rows.push([
      request.name,
      Math.round(result.requests.average).toLocaleString('en-US'),
      `${result.latency.p50} ms`,
      `${result.latency.p99} ms`,
      String(errors),
    ]);
  }
} finally {
  child.kill();
}
console.log(
  `\n### Verifier service on loopback (${connections} connections, ${seconds} s per row, server on one core; node ${process.version})\n`,
);
console.log(table(['evidence', 'requests/s', 'p50', 'p99', 'errors'], rows));
