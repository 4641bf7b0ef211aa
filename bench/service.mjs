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
  // Intel: JSON body with the quote and its collateral (dcap-qvl shape), verification time pinned.
  for (const [name, id] of [
    ['SGX (JSON body with collateral)', 'sgx/dcapqvl-sgx-v3-00A067110000-2025-06'],
    ['TDX (JSON body with collateral)', 'tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06'],
  ]) {
    const dir = join(root, 'test', 'vectors', 'dcap', id);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    out.push({
      name,
      path: '/v1/verify',
      contentType: 'application/json',
      body: JSON.stringify({
        evidence: readFileSync(join(dir, 'quote.bin')).toString('base64'),
        collateral: JSON.parse(readFileSync(join(dir, 'collateral.json'), 'utf8')),
        at: expected.verification_time.iso,
        policy: { tcb: { allowedStatuses: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'] } },
      }),
    });
  }
  // AMD: JSON body with the report and the VCEK (PEM).
  const snpDir = join(root, 'test', 'vectors', 'sev-snp', 'trustee-milan-v2');
  const snp = JSON.parse(readFileSync(join(snpDir, 'expected.json'), 'utf8'));
  const vcek = readFileSync(join(snpDir, 'vcek.der'))
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  out.push({
    name: 'SEV-SNP (JSON body with VCEK)',
    path: '/v1/verify',
    contentType: 'application/json',
    body: JSON.stringify({
      evidence: readFileSync(join(snpDir, 'report.bin')).toString('base64'),
      collateral: { vcek: `-----BEGIN CERTIFICATE-----\n${vcek}\n-----END CERTIFICATE-----\n` },
      at: snp.verification_time.unix,
    }),
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
