// SEV-SNP verification throughput, one core, against the built library (`npm run build` first):
//   node bench/snp.mjs [seconds-per-case, default 10, split over 5 interleaved rounds; the median is shown]
// Runs, in one process and one run: veritee (chain cached after the first report), the crypto floor
// (one P-384 verify of the report, and that plus the RSA-PSS-4096 check of the VCEK by the ASK),
// @tinfoilsh/verifier (Genoa VCEK only) and @lit-protocol/sev-snp-utils-sdk (Milan VCEK only).
// Every case verifies real reports from test/vectors/sev-snp; a case that fails to verify aborts the run.
import { constants, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { parseCertificate, pemToDer } from '../dist/pki/certificate.js';
import { verifySnpBytes } from '../dist/platforms/snp/index.js';

const SECONDS = Number(process.argv[2] ?? 10);
const root = new URL('../test/vectors/sev-snp/', import.meta.url);
const read = (path) => new Uint8Array(readFileSync(new URL(path, root)));

function loadVector(id) {
  const expected = JSON.parse(readFileSync(new URL(`${id}/expected.json`, root), 'utf8'));
  let vcek;
  try {
    vcek = read(`${id}/vcek.der`);
  } catch {
    vcek = pemToDer(readFileSync(new URL(`${id}/vcek.pem`, root), 'utf8'))[0];
  }
  return {
    id,
    report: read(`${id}/report.bin`),
    vcek,
    chain: readFileSync(new URL(`${id}/ask_ark.pem`, root), 'utf8'),
    at: new Date(expected.verification_time.unix * 1000),
  };
}

const cases = [];

/** Registers a case; `run()` below times all cases in interleaved rounds, so drift hits them alike. */
async function measure(name, fn) {
  await fn(); // warm-up and a correctness check: throws if verification fails
  for (let i = 0; i < 50; i++) await fn();
  cases.push({ name, fn, rates: [] });
}

async function timeOnce(fn, seconds) {
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 10; i++) await fn();
    count += 10;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

async function run(rounds) {
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) c.rates.push(await timeOnce(c.fn, SECONDS / rounds));
  }
  const out = {};
  for (const c of cases) {
    const sorted = [...c.rates].sort((a, b) => a - b);
    const rate = sorted[Math.floor(sorted.length / 2)];
    out[c.name] = rate;
    console.log(
      `${c.name.padEnd(66)} ${rate.toFixed(0).padStart(7)} reports/s ${(1e6 / rate).toFixed(0).padStart(7)} µs/report`,
    );
  }
  return out;
}

function p1363FromReport(report) {
  const out = new Uint8Array(96);
  for (let i = 0; i < 48; i++) {
    out[i] = report[0x2a0 + 47 - i];
    out[48 + i] = report[0x2a0 + 72 + 47 - i];
  }
  return out;
}

const milan = loadVector('trustee-milan-v2');
const genoa = loadVector('trustee-azure-genoa-v3');
const vlek = loadVector('trustee-milan-vlek-v3');

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${SECONDS}s per case, one core`);

for (const v of [milan, genoa, vlek]) {
  await measure(`veritee verifySnpBytes (${v.id})`, async () => {
    await verifySnpBytes(v.report, { at: v.at, collateral: { vcek: v.vcek } });
  });
}

// The floor: what any verifier must do per report with the chain cached.
for (const v of [milan, genoa]) {
  const vcek = parseCertificate(v.vcek);
  const key = createPublicKey({ key: Buffer.from(vcek.spki), format: 'der', type: 'spki' });
  const signed = v.report.subarray(0, 0x2a0);
  const signature = p1363FromReport(v.report);
  const p384 = () => {
    if (!nodeVerify('sha384', signed, { key, dsaEncoding: 'ieee-p1363' }, signature))
      throw new Error('floor');
  };
  await measure(`floor: one P-384 verify (${v.id})`, async () => p384());
  const ask = parseCertificate(pemToDer(v.chain)[0]);
  const askKey = createPublicKey({ key: Buffer.from(ask.spki), format: 'der', type: 'spki' });
  const pss = { key: askKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 };
  await measure(`floor: P-384 verify + VCEK RSA-PSS check (${v.id})`, async () => {
    p384();
    if (!nodeVerify('sha384', vcek.tbs, pss, vcek.signature)) throw new Error('vcek');
  });
}

// @tinfoilsh/verifier: Genoa, VCEK only; certificate validity is checked at the wall clock.
const tinfoilReport = await import('../node_modules/@tinfoilsh/verifier/dist/sev/report.js');
const tinfoilChain = await import('../node_modules/@tinfoilsh/verifier/dist/sev/cert-chain.js');
const tinfoilVerify = await import('../node_modules/@tinfoilsh/verifier/dist/sev/verify.js');
await measure(`@tinfoilsh/verifier 1.1.0 (${genoa.id})`, async () => {
  const report = new tinfoilReport.Report(genoa.report);
  const chain = await tinfoilChain.CertificateChain.fromReport(report, genoa.vcek);
  if (!(await tinfoilVerify.verifyAttestation(chain, report))) throw new Error('tinfoil');
});

// @lit-protocol/sev-snp-utils-sdk: Milan, VCEK only (embedded Milan chain), WASM.
const lit = createRequire(import.meta.url)('@lit-protocol/sev-snp-utils-sdk');
await lit.initWasmSevSnpUtilsSdk();
const milanBase64 = Buffer.from(milan.report).toString('base64');
await measure(`@lit-protocol/sev-snp-utils-sdk 6.11.5 (${milan.id})`, async () => {
  await lit.verify_attestation_report(milanBase64, milan.vcek);
});

const results = await run(5);
const ratio = (a, b) => (results[a] / results[b]).toFixed(2);
console.log('');
const V = (id) => `veritee verifySnpBytes (${id})`;
const F = (id) => `floor: one P-384 verify (${id})`;
console.log(
  `veritee / tinfoil (Genoa):      ${ratio(V(genoa.id), `@tinfoilsh/verifier 1.1.0 (${genoa.id})`)}×`,
);
console.log(
  `veritee / lit (Milan):          ${ratio(V(milan.id), `@lit-protocol/sev-snp-utils-sdk 6.11.5 (${milan.id})`)}×`,
);
console.log(`floor / veritee (Milan):        ${ratio(F(milan.id), V(milan.id))}×`);
console.log(`floor / veritee (Genoa):        ${ratio(F(genoa.id), V(genoa.id))}×`);
