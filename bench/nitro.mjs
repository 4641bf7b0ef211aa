// Nitro verification throughput on one core: veritee (warm and cold caches) beside the npm peers and
// beside the crypto floor (the two ECDSA P-384 verifications no verifier can avoid: the COSE signature
// and the leaf certificate's signature). Also: time from import to first verdict in a fresh process.
// Run: npm run bench -- nitro   (or: npm run build && node bench/nitro.mjs)
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, opsPerSecond, table } from './lib.mjs';

const root = join(import.meta.dirname, '..');
const vectorsDir = join(root, 'test', 'vectors', 'nitro');
const seconds = Number(process.env.BENCH_SECONDS ?? 3);

const docs = readdirSync(vectorsDir)
  .filter((name) => !name.includes('mock'))
  .map((name) => {
    const expected = JSON.parse(readFileSync(join(vectorsDir, name, 'expected.json'), 'utf8'));
    const bytes = new Uint8Array(readFileSync(join(vectorsDir, name, 'attestation_doc.cose')));
    return {
      name,
      bytes,
      base64: Buffer.from(bytes).toString('base64'),
      at: new Date(expected.verification_time.unix_ms),
      pcrs: expected.parsed.pcrs,
    };
  });

// The package's own entry points (self-reference): the bundles users get from `import 'veritee'`.
const { verify } = await import('veritee');
const { clearChainCache } = await import('veritee/pki');
const { parseNitroEvidence, sigStructure } = await import('veritee/nitro');

// Sanity: every implementation accepts every document before it is timed.
for (const doc of docs) {
  const result = await verify(doc.bytes, { at: doc.at, policy: { allowDebug: true, sections: {} } });
  if (result.verdict !== 'affirming') throw new Error(`veritee rejected ${doc.name}`);
}

const results = [];
const policy = { allowDebug: true, sections: {} };
const veriteeWarm = await opsPerSecond(
  (i) => verify(docs[i % docs.length].bytes, { at: docs[i % docs.length].at, policy }),
  { seconds },
);
results.push(['veritee, documents seen before (every certificate link cached)', veriteeWarm]);
const veriteeCold = await opsPerSecond(
  (i) => {
    clearChainCache();
    return verify(docs[i % docs.length].bytes, { at: docs[i % docs.length].at, policy });
  },
  { seconds },
);
results.push(['veritee, link cache cleared before each call', veriteeCold]);

// Crypto floors, with node:crypto and keys imported beforehand: the COSE signature alone (what a document
// whose every certificate link was verified before still needs), and the COSE signature plus the four
// certificate signatures of its chain (what a verifier with no cache needs).
const { parseCertificate } = await import('veritee/pki');
const floorInputs = docs.map((doc) => {
  const { cose, document } = parseNitroEvidence(doc.bytes);
  const path = [document.certificate, ...[...document.cabundle].reverse()].map((der) =>
    parseCertificate(der),
  );
  const key = (cert) => createPublicKey({ key: Buffer.from(cert.spki), format: 'der', type: 'spki' });
  return {
    leafKey: key(path[0]),
    toSign: sigStructure(cose),
    coseSig: cose.signature,
    links: path
      .slice(0, -1)
      .map((child, i) => ({ tbs: child.tbs, signature: child.signature, issuerKey: key(path[i + 1]) })),
  };
});
const verifyCose = (input) =>
  nodeVerify('sha384', input.toSign, { key: input.leafKey, dsaEncoding: 'ieee-p1363' }, input.coseSig);
const verifyLink = (link) => nodeVerify('sha384', link.tbs, link.issuerKey, link.signature);
for (const input of floorInputs) {
  if (!verifyCose(input) || !input.links.every(verifyLink))
    throw new Error('crypto floor inputs do not verify');
}
const floor = await opsPerSecond(async (i) => verifyCose(floorInputs[i % floorInputs.length]), { seconds });
results.push(['crypto floor: 1 × P-384 verify (COSE signature)', floor]);
const floorAll = await opsPerSecond(
  async (i) => {
    const input = floorInputs[i % floorInputs.length];
    verifyCose(input);
    input.links.forEach(verifyLink);
  },
  { seconds },
);
results.push(['crypto floor: 5 × P-384 verify (COSE + 4 certificate links)', floorAll]);

// Peers. evervault's WASM checks certificates at the current time; its clock is the JS Date.now, which
// is pinned to each document's time for the call. 0xsequence's library expects a browser `window`.
globalThis.window = globalThis;
const evervault = await import('@evervault/wasm-attestation-bindings');
evervault.initSync({
  module: readFileSync(
    join(root, 'node_modules', '@evervault', 'wasm-attestation-bindings', 'index_bg.wasm'),
  ),
});
const realNow = Date.now;
const evervaultRunOn = (doc) => {
  Date.now = () => doc.at.getTime();
  try {
    const pcrs = new evervault.PCRs(doc.pcrs['0'], doc.pcrs['1'], doc.pcrs['2'], doc.pcrs['8']);
    if (!evervault.validateAttestationDocPcrs(doc.base64, [pcrs]))
      throw new Error(`evervault rejected ${doc.name}`);
  } finally {
    Date.now = realNow;
  }
};
// Documents a peer rejects are left out of its row (and listed) rather than timed as failures.
const skipped = [];
function acceptedBy(name, run) {
  const ok = [];
  for (let i = 0; i < docs.length; i++) {
    try {
      run(i);
      ok.push(docs[i]);
    } catch {
      skipped.push(`${name} rejects ${docs[i].name}`);
    }
  }
  return ok;
}
const evervaultDocs = acceptedBy('@evervault/wasm-attestation-bindings', (i) => evervaultRunOn(docs[i]));
results.push([
  '@evervault/wasm-attestation-bindings',
  await opsPerSecond(async (i) => evervaultRunOn(evervaultDocs[i % evervaultDocs.length]), { seconds }),
]);

const { SignedAttestation } = await import('@0xsequence/tee-verifier');
const sequenceRun = async (i) => {
  const doc = docs[i % docs.length];
  const attestation = SignedAttestation.fromDocument(doc.base64);
  const ok = (await attestation.verifySignature()) && (await attestation.verifyRootOfTrust(doc.at));
  const rootOk =
    (await attestation.rootCertFingerprint()) ===
    '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';
  if (!ok || !rootOk) throw new Error(`0xsequence rejected ${doc.name}`);
};
for (let i = 0; i < docs.length; i++) await sequenceRun(i);
results.push(['@0xsequence/tee-verifier', await opsPerSecond(sequenceRun, { seconds })]);

// Import to first verdict, in fresh processes: 7 rounds, each starting one process per implementation
// (interleaved, so a burst of load from other work hits every implementation alike). Each process
// prints its wall-clock time and the CPU time it used over the same span (less sensitive to load).
const doc = docs.find((d) => d.name === 'marlin-aws-2024-12-13');
const docPath = join(vectorsDir, doc.name, 'attestation_doc.cose');
const timed = (setup, body) => `
  ${setup}
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  ${body}
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(wall, (cpu.user + cpu.system) / 1000);`;
const coldScripts = {
  veritee: timed(
    `const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(docPath)});`,
    `const { verify } = await import('veritee');
     const r = await verify(bytes, { at: new Date(${doc.at.getTime()}) });
     if (r.verdict !== 'affirming') throw new Error('rejected');`,
  ),
  '@evervault/wasm-attestation-bindings': timed(
    `const fs = await import('node:fs');
     const bytes = fs.readFileSync(${JSON.stringify(docPath)}).toString('base64');`,
    `const ev = await import('@evervault/wasm-attestation-bindings');
     ev.initSync({ module: fs.readFileSync(${JSON.stringify(join(root, 'node_modules', '@evervault', 'wasm-attestation-bindings', 'index_bg.wasm'))}) });
     Date.now = () => ${doc.at.getTime()};
     const p = ${JSON.stringify(doc.pcrs)};
     if (!ev.validateAttestationDocPcrs(bytes, [new ev.PCRs(p['0'], p['1'], p['2'], p['8'])])) throw new Error('rejected');`,
  ),
  '@0xsequence/tee-verifier': timed(
    `globalThis.window = globalThis;
     const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(docPath)}).toString('base64');`,
    `const { SignedAttestation } = await import('@0xsequence/tee-verifier');
     const a = SignedAttestation.fromDocument(bytes);
     if (!(await a.verifySignature()) || !(await a.verifyRootOfTrust(new Date(${doc.at.getTime()})))) throw new Error('rejected');`,
  ),
};
const coldRuns = Object.fromEntries(Object.keys(coldScripts).map((name) => [name, { wall: [], cpu: [] }]));
for (let round = 0; round < 7; round++) {
  for (const [name, script] of Object.entries(coldScripts)) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    const [wall, cpu] = out.trim().split(/\s+/).map(Number);
    coldRuns[name].wall.push(wall);
    coldRuns[name].cpu.push(cpu);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

const peerBest = Math.max(results[4][1], results[5][1]);
console.log(
  `\n### Nitro attestation documents (${docs.length} real documents, round-robin; ${seconds} s per row; node ${process.version})\n`,
);
console.log(
  table(
    ['implementation', 'verifications/s'],
    results.map(([name, ops]) => [name, fmt(ops)]),
  ),
);
console.log(
  `\n- cached veritee vs the faster peer: ${(veriteeWarm / peerBest).toFixed(1)}×; cached veritee is ${(floor / veriteeWarm).toFixed(2)}× the 1-verify floor; uncached veritee is ${(floorAll / veriteeCold).toFixed(2)}× the 5-verify floor`,
);
for (const line of skipped) console.log(`- note: ${line} (left out of its row)`);
console.log('\nImport to first verdict, fresh process (median of 7 interleaved rounds):\n');
console.log(
  table(
    ['implementation', 'ms (wall clock)', 'ms (CPU)'],
    Object.entries(coldRuns).map(([name, runs]) => [
      name,
      median(runs.wall).toFixed(1),
      median(runs.cpu).toFixed(1),
    ]),
  ),
);
