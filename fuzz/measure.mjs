// Mutation fuzzer for the measure parsers: EIF (built from small parts, with and without a valid CRC),
// the real CCEL log, a real dstack JSON log, and a signed DSSE release envelope and release bundle.
// Every input must yield a value or a VeriteeError: any other exception, or a case slower than the
// limit, is a finding. Deterministic for a given seed.
// Run: npm run build && node fuzz/measure.mjs [cases=20000] [seed=1]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';

const root = join(import.meta.dirname, '..');
const { VeriteeError } = await import(join(root, 'dist', 'errors.js'));
const { parseEif } = await import(join(root, 'dist', 'measure', 'eif.js'));
const { parseEventLog } = await import(join(root, 'dist', 'measure', 'eventlog.js'));
const { parseEnvelope, parseReleaseStatement } = await import(join(root, 'dist', 'measure', 'release.js'));

const cases = Number(process.argv[2] ?? 20_000);
let seed = Number(process.argv[3] ?? 1) >>> 0;
const SLOW_MS = 250;

function random() {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
}
const int = (n) => Math.floor(random() * n);

function eif() {
  const te = new TextEncoder();
  const parts = [
    [1, te.encode('kernel'.repeat(20))],
    [2, te.encode('console=ttyS0')],
    [5, te.encode('{"ImageName":"x"}')],
    [3, te.encode('init')],
    [3, te.encode('app')],
  ];
  const size = 548 + parts.reduce((sum, [, data]) => sum + 12 + data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x2e, 0x65, 0x69, 0x66]);
  view.setUint16(4, 4);
  view.setUint16(26, parts.length);
  let offset = 548;
  parts.forEach(([type, data], i) => {
    view.setBigUint64(28 + 8 * i, BigInt(offset));
    view.setBigUint64(284 + 8 * i, BigInt(data.length));
    view.setUint16(offset, type);
    view.setBigUint64(offset + 4, BigInt(data.length));
    out.set(data, offset + 12);
    offset += 12 + data.length;
  });
  return fixCrc(out);
}

function fixCrc(bytes) {
  if (bytes.length < 548) return bytes;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    544,
    crc32(Buffer.concat([bytes.subarray(0, 544), bytes.subarray(548)])),
  );
  return bytes;
}

const V = join(root, 'test', 'vectors', 'measure');
const ccel = new Uint8Array(readFileSync(join(V, 'ccel-cos113', 'ccel_data.dat'))).slice(0, 18200);
const dstack = new Uint8Array(readFileSync(join(V, 'dstack', 'near-mpc', 'event_log.json')));
const envelope = new TextEncoder().encode(
  JSON.stringify({
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: 'nitro/pcr0', digest: { sha384: '1'.repeat(96) } }],
        predicateType: 'https://veritee.dev/release/v1',
        predicate: {
          repository: 'https://github.com/a/b',
          commit: 'a'.repeat(40),
          buildRecipe: { digest: { sha256: 'b'.repeat(64) } },
          measurements: { nitro: { pcr0: '1'.repeat(96) } },
        },
      }),
    ).toString('base64'),
    signatures: [{ keyid: 'k', sig: 'AAAA' }],
  }),
);

const targets = [
  { name: 'eif', base: eif(), run: (b) => parseEif(random() < 0.7 ? fixCrc(b) : b) },
  { name: 'ccel', base: ccel, run: (b) => parseEventLog(b) },
  { name: 'dstack', base: dstack, run: (b) => parseEventLog(b) },
  { name: 'dsse', base: envelope, run: (b) => parseReleaseStatement(parseEnvelope(b).payload) },
];

function mutate(input) {
  let bytes = input.slice();
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(bytes.length + 1);
    switch (int(5)) {
      case 0:
        if (bytes.length > 0) bytes[at % bytes.length] ^= 1 << int(8);
        break;
      case 1:
        if (bytes.length > 0) bytes[at % bytes.length] = [0, 0xff, 0x22, 0x5b, 0x7b, 0x30, 0x80][int(7)];
        break;
      case 2:
        bytes = bytes.subarray(0, at);
        break;
      case 3:
        bytes = new Uint8Array([
          ...bytes.subarray(0, at),
          ...Array.from({ length: 1 + int(8) }, () => int(256)),
          ...bytes.subarray(at),
        ]);
        break;
      default:
        bytes = new Uint8Array([
          ...bytes.subarray(0, at),
          ...bytes.subarray(Math.min(bytes.length, at + 1 + int(16))),
        ]);
    }
  }
  return bytes;
}

const findings = [];
const counts = Object.fromEntries(targets.map((t) => [t.name, { accepted: 0, rejected: 0 }]));
const start = performance.now();
for (let i = 0; i < cases; i++) {
  const target = targets[i % targets.length];
  const input = mutate(target.base);
  const t0 = performance.now();
  try {
    target.run(input);
    counts[target.name].accepted++;
  } catch (error) {
    if (!(error instanceof VeriteeError))
      findings.push({ target: target.name, case: i, error: String(error).slice(0, 200) });
    else counts[target.name].rejected++;
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) findings.push({ target: target.name, case: i, error: `slow: ${ms.toFixed(0)} ms` });
}
console.log(`${cases} cases in ${((performance.now() - start) / 1000).toFixed(1)} s`, counts);
if (findings.length > 0) {
  console.log('findings:', findings.slice(0, 20));
  process.exit(1);
}
console.log('no finding');
