// Nitro verification throughput on one core: veritee (warm and cold caches) beside the npm peers and
// beside the crypto floor (the two ECDSA P-384 verifications no verifier can avoid: the COSE signature
// and the leaf certificate's signature). Also: time from import to first verdict in a fresh process.
// Run: npm run bench -- nitro   (or: npm run build && node bench/nitro.mjs)
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify, X509Certificate } from 'node:crypto';
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
results.push(['veritee (intermediates cached)', veriteeWarm]);
const veriteeCold = await opsPerSecond(
  (i) => {
    clearChainCache();
    return verify(docs[i % docs.length].bytes, { at: docs[i % docs.length].at, policy });
  },
  { seconds },
);
results.push(['veritee (link cache cleared each call)', veriteeCold]);

// Crypto floor: the COSE ES384 signature and the leaf certificate's signature, keys imported beforehand.
const floorInputs = docs.map((doc) => {
  const { cose, document } = parseNitroEvidence(doc.bytes);
  const leaf = new X509Certificate(document.certificate);
  const issuer = new X509Certificate(document.cabundle[document.cabundle.length - 1]);
  const leafDer = new Uint8Array(document.certificate);
  // TBS and signature of the leaf, cut from its DER with node's own parser's help (lengths from the DER).
  const tbsStart = leafDer[1] & 0x80 ? 2 + (leafDer[1] & 0x7f) : 2;
  const tbsLenBytes = leafDer[tbsStart + 1] & 0x80 ? leafDer[tbsStart + 1] & 0x7f : 0;
  let tbsLen = tbsLenBytes === 0 ? leafDer[tbsStart + 1] : 0;
  for (let k = 0; k < tbsLenBytes; k++) tbsLen = tbsLen * 256 + leafDer[tbsStart + 2 + k];
  const tbsEnd = tbsStart + 2 + tbsLenBytes + tbsLen;
  const tbs = leafDer.subarray(tbsStart, tbsEnd);
  const sigAlgLen = leafDer[tbsEnd + 1] + 2;
  const bitString = leafDer.subarray(tbsEnd + sigAlgLen);
  const bsLenBytes = bitString[1] & 0x80 ? bitString[1] & 0x7f : 0;
  const certSig = bitString.subarray(2 + bsLenBytes + 1);
  return {
    leafKey: createPublicKey(leaf.publicKey.export({ format: 'pem', type: 'spki' })),
    issuerKey: createPublicKey(issuer.publicKey.export({ format: 'pem', type: 'spki' })),
    toSign: sigStructure(cose),
    coseSig: cose.signature,
    tbs,
    certSig,
  };
});
for (const input of floorInputs) {
  const ok1 = nodeVerify(
    'sha384',
    input.toSign,
    { key: input.leafKey, dsaEncoding: 'ieee-p1363' },
    input.coseSig,
  );
  const ok2 = nodeVerify('sha384', input.tbs, input.issuerKey, input.certSig);
  if (!ok1 || !ok2) throw new Error('crypto floor inputs do not verify');
}
const floor = await opsPerSecond(
  async (i) => {
    const input = floorInputs[i % floorInputs.length];
    nodeVerify('sha384', input.toSign, { key: input.leafKey, dsaEncoding: 'ieee-p1363' }, input.coseSig);
    nodeVerify('sha384', input.tbs, input.issuerKey, input.certSig);
  },
  { seconds },
);
results.push(['crypto floor: 2 × P-384 verify (node:crypto)', floor]);

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

// Import to first verdict, in fresh processes (median of 7).
function coldStart(script) {
  const times = [];
  for (let k = 0; k < 7; k++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    times.push(Number(out.trim()));
  }
  return times.sort((a, b) => a - b)[3];
}
const doc = docs.find((d) => d.name === 'marlin-aws-2024-12-13');
const docPath = join(vectorsDir, doc.name, 'attestation_doc.cose');
const coldVeritee = coldStart(`
  const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(docPath)});
  const t0 = performance.now();
  const { verify } = await import('veritee');
  const r = await verify(bytes, { at: new Date(${doc.at.getTime()}) });
  if (r.verdict !== 'affirming') throw new Error('rejected');
  console.log(performance.now() - t0);`);
const coldEvervault = coldStart(`
  const fs = await import('node:fs');
  const bytes = fs.readFileSync(${JSON.stringify(docPath)}).toString('base64');
  const t0 = performance.now();
  const ev = await import('@evervault/wasm-attestation-bindings');
  ev.initSync({ module: fs.readFileSync(${JSON.stringify(join(root, 'node_modules', '@evervault', 'wasm-attestation-bindings', 'index_bg.wasm'))}) });
  Date.now = () => ${doc.at.getTime()};
  const p = ${JSON.stringify(doc.pcrs)};
  if (!ev.validateAttestationDocPcrs(bytes, [new ev.PCRs(p['0'], p['1'], p['2'], p['8'])])) throw new Error('rejected');
  console.log(performance.now() - t0);`);
const coldSequence = coldStart(`
  globalThis.window = globalThis;
  const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(docPath)}).toString('base64');
  const t0 = performance.now();
  const { SignedAttestation } = await import('@0xsequence/tee-verifier');
  const a = SignedAttestation.fromDocument(bytes);
  if (!(await a.verifySignature()) || !(await a.verifyRootOfTrust(new Date(${doc.at.getTime()})))) throw new Error('rejected');
  console.log(performance.now() - t0);`);

const peerBest = Math.max(results[3][1], results[4][1]);
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
  `\n- veritee (cached) vs faster peer: ${(veriteeWarm / peerBest).toFixed(1)}×; crypto floor / veritee: ${(floor / veriteeWarm).toFixed(2)}×`,
);
for (const line of skipped) console.log(`- note: ${line} (left out of its row)`);
console.log('\nImport to first verdict, fresh process (median of 7):\n');
console.log(
  table(
    ['implementation', 'ms'],
    [
      ['veritee', coldVeritee.toFixed(1)],
      ['@evervault/wasm-attestation-bindings', coldEvervault.toFixed(1)],
      ['@0xsequence/tee-verifier', coldSequence.toFixed(1)],
    ],
  ),
);
